import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { FerryLambdaEntries } from '../../lib/constructs';

/** A tiny handler that stands in for every Ferry function in construct tests. */
export const FIXTURE_ENTRY = path.join(__dirname, 'fixtures', 'handler.ts');

export const fixtureEntries: Required<FerryLambdaEntries> = {
  produce: FIXTURE_ENTRY,
  fetch: FIXTURE_ENTRY,
  admin: FIXTURE_ENTRY,
  groups: FIXTURE_ENTRY,
  fallback: FIXTURE_ENTRY,
  maintenance: FIXTURE_ENTRY,
  dispatcher: FIXTURE_ENTRY,
  topicResource: FIXTURE_ENTRY,
};

/** An app that skips asset bundling (fast template tests). */
export function templateApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

export function templateStack(): Stack {
  return new Stack(templateApp(), 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
}

/** Every IAM statement in the template, flattened, with the policy's logical id. */
export function statements(template: {
  findResources(type: string): Record<string, any>;
}): Array<{ policy: string; roles: unknown; statement: any }> {
  return Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([policy, res]) =>
    (res.Properties.PolicyDocument.Statement as any[]).map((statement) => ({ policy, roles: res.Properties.Roles, statement })),
  );
}

/** The IAM statements of every policy attached to `role` (a construct with a CfnRole default child). */
export function statementsOf(
  template: { findResources(type: string): Record<string, any> },
  stack: Stack,
  role: { node: { defaultChild?: unknown } },
): any[] {
  const roleId = stack.getLogicalId(role.node.defaultChild as any);
  return statements(template)
    .filter((s) => JSON.stringify(s.roles).includes(`"${roleId}"`))
    .map((s) => s.statement);
}

/** All actions a role's policies allow. */
export function actionsOf(
  template: { findResources(type: string): Record<string, any> },
  stack: Stack,
  role: { node: { defaultChild?: unknown } },
): string[] {
  return statementsOf(template, stack, role).flatMap((s) => [s.Action].flat());
}
