/**
 * The `Ferry::Topic` custom resource (onEvent handler for the CDK Provider framework): logs the event and
 * applies it with lib/adapters/aws/topic-resource.ts (what create, update and delete do is described there).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { openAwsHome } from '../lib/adapters/aws/home';
import { applyTopicEvent, type TopicResourceData } from '../lib/adapters/aws/topic-resource';
import type { Settings } from '../lib/core/settings';
import { createCore } from '../lib/core/create-core';
import type { Topics } from '../lib/core/log/topics';
import type { ConsumerRegistry } from '../lib/core/consumers/registry';

const logger = new Logger({ serviceName: 'ferry-topic-resource' });

let topics: Promise<{ topics: Topics; settings: Settings; registry: ConsumerRegistry }> | undefined;

export async function handler(event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse<TopicResourceData>> {
  logger.info('topic resource event', {
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: 'PhysicalResourceId' in event ? event.PhysicalResourceId : undefined,
    properties: event.ResourceProperties, // topic settings only: no records, no credentials
  });
  topics ??= openAwsHome(process.env).then((home) => {
    const core = createCore(home.ctx);
    return { topics: core.topics, settings: home.ctx.settings, registry: core.consumers };
  });
  try {
    const t = await topics;
    const res = await applyTopicEvent(event, t.topics, t.settings, t.registry);
    logger.info('topic resource done', { physicalResourceId: res.PhysicalResourceId, data: res.Data });
    return res;
  } catch (e) {
    topics = undefined;
    logger.error('topic resource failed', { message: (e as Error).message });
    // The Provider framework reports the message to CloudFormation as the failure reason.
    throw e;
  }
}
