/**
 * A small IAM identity-policy evaluator: an explicit Deny wins, else an Allow grants, else the request is
 * implicitly denied. Actions match case-insensitively with `*` / `?` wildcards (`s3:Get*`); resources match
 * ARNs with `*` / `?` (a `*` spans `/` and `:`, as in IAM). `NotAction` / `NotResource` are honoured.
 *
 * Not emulated: `Condition` blocks (a statement with a condition is applied as if the condition held, which
 * makes the harness more permissive than AWS, never less), resource policies, permission boundaries, SCPs
 * and session policies. The statements come from the synthesized template, never from a hand-written table.
 */

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: unknown;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function glob(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

const matchesAction = (patterns: string[], action: string) => patterns.some((p) => glob(p, 'i').test(action));
// Resource ARNs are case-sensitive (bucket keys, table names).
const matchesResource = (patterns: string[], arn: string) => patterns.some((p) => glob(p).test(arn));

function applies(s: Statement, action: string, resource: string): boolean {
  const actionOk = s.NotAction !== undefined ? !matchesAction(list(s.NotAction), action) : matchesAction(list(s.Action), action);
  if (!actionOk) return false;
  return s.NotResource !== undefined ? !matchesResource(list(s.NotResource), resource) : matchesResource(list(s.Resource), resource);
}

/** The decision of `statements` (every policy of one principal) for `action` on `resource`. */
export function evaluate(statements: readonly Statement[], action: string, resource: string): Decision {
  let allowed = false;
  for (const s of statements) {
    if (!applies(s, action, resource)) continue;
    if (s.Effect === 'Deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** The reason AWS appends to an AccessDenied message. */
export function denialReason(decision: Decision, action: string): string {
  return decision === 'explicit-deny'
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
}
