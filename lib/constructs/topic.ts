/**
 * Ferry topics as CDK constructs, shaped like aws-kinesis `Stream`: `Topic`, a topic this app declares (a
 * custom resource creates it on deploy). `ITopic` and `TopicBase` (grants, metrics) are in topic-base.ts,
 * the props and their rules in topic-props.ts, push consumers in topic-consumers.ts.
 */
import { Annotations, CustomResource, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { consumerDefinition, grantDispatcherInvoke, type ConsumerDefinition, type ConsumerProps } from './topic-consumers';
import { TopicBase, type ITopic, type TopicAttributes } from './topic-base';
import { DEFAULT_RETENTION, validateTopicProps, type IFerryCluster, type TopicProps } from './topic-props';

/**
 * A topic declared in this app. On deploy a custom resource creates it (or grows its partitions, or changes
 * its retention); when the construct leaves the stack, `removalPolicy` decides whether the topic is deleted.
 *
 * @example
 * const orders = ferry.addTopic('orders', { partitions: 12, retention: Duration.days(7) });
 * orders.grantProduce(checkoutFn);
 * orders.addConsumer('email', { handler: emailFn, batchSize: 100, maxRecordsPerSecond: 50 });
 */
export class Topic extends TopicBase {
  /** A topic created elsewhere (another stack, the CLI, the API). */
  static fromTopicAttributes(scope: Construct, id: string, attrs: TopicAttributes): ITopic {
    class Import extends TopicBase {
      readonly topicName = attrs.topicName;
      readonly httpApiId = attrs.httpApiId;
      protected readonly metricsTableName = attrs.tableName;
    }
    return new Import(scope, id);
  }

  readonly topicName: string;
  readonly httpApiId: string;
  readonly partitionCount: number;
  readonly replicationFactor: number;
  /** The custom resource that creates the topic; depend on it to use the topic during deploy. */
  readonly resource: CustomResource;
  protected readonly metricsTableName: string;
  private readonly ferry: IFerryCluster;
  private readonly consumers: ConsumerDefinition[] = [];

  constructor(scope: Construct, id: string, props: TopicProps) {
    super(scope, id);
    const topicName = props.topicName ?? id;
    validateTopicProps(topicName, props);

    this.ferry = props.ferry;
    this.topicName = topicName;
    this.httpApiId = props.ferry.httpApiId;
    this.metricsTableName = props.ferry.tableName;
    this.partitionCount = props.partitions ?? 1;
    this.replicationFactor = props.replicationFactor ?? 1;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    if (props.ferry.singleZoneStores && this.replicationFactor === 1) {
      Annotations.of(this).addWarningV2(
        '@ferry/topic:single-zone',
        `Topic ${topicName} keeps one copy in a single-AZ store: an AZ outage can lose acknowledged records. Set replicationFactor to 2 or more.`,
      );
    }

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.ferry._topicServiceToken(),
      resourceType: 'Custom::FerryTopic',
      removalPolicy,
      // CloudFormation hands these to the handler as strings (numbers included).
      properties: {
        name: topicName,
        partitions: this.partitionCount,
        replicationFactor: this.replicationFactor,
        retentionMs: (props.retention ?? DEFAULT_RETENTION).toMilliseconds(),
        retentionBytes: props.retentionBytes ?? -1,
        removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
        consumers: Lazy.any({ produce: () => this.consumers }, { omitEmptyArray: true }),
      },
    });
  }

  /** @internal */
  hasConsumer(name: string): boolean {
    return this.consumers.some((c) => c.name === name);
  }

  /**
   * Pushes this topic's records to a Lambda function: records the consumer in the topic's definition (the
   * dispatcher reads it) and lets the dispatcher invoke `handler` (`lambda:InvokeFunction` on it only).
   *
   * @example
   * orders.addConsumer('email', { handler: emailFn, batchSize: 100, maxRecordsPerSecond: 50 });
   */
  addConsumer(name: string, props: ConsumerProps): ConsumerDefinition {
    const definition = consumerDefinition(this, name, props);
    this.consumers.push(definition);
    grantDispatcherInvoke(this.ferry._dispatcher(), props.handler);
    return definition;
  }
}
