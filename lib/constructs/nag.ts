/**
 * cdk-nag acknowledgements for wildcards Ferry itself puts in policies. cdk-nag 3 acknowledges each finding
 * by its exact id, and an IAM5 finding names the resource as the template has it (`<Logical.Arn>/topics/*`),
 * so the id is rendered from the resolved value, the way cdk-nag renders it.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/** Renders a (possibly token-bearing) string as cdk-nag prints it, or `undefined` if it cannot. */
export function nagString(scope: IConstruct, value: string): string | undefined {
  return render(Stack.of(scope).resolve(value));
}

function render(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    const join = o['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      const parts = join[1].map(render);
      return parts.every((p) => p !== undefined) ? parts.join(join[0]) : undefined;
    }
  }
  return undefined;
}

/**
 * Acknowledges AwsSolutions-IAM5 for each wildcard resource in `resourceArns` on `target` (a role or one of
 * its ancestors), with `reason`. Resources without `*` need nothing.
 */
export function acknowledgeWildcardResources(target: IConstruct, resourceArns: readonly string[], reason: string): void {
  for (const arn of resourceArns) {
    const rendered = nagString(target, arn);
    if (rendered === undefined || !rendered.includes('*')) continue;
    Validations.of(target).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${rendered}]`, reason });
  }
}

/** The construct whose subtree holds the policy a grant to `grantee` writes, if there is one. */
export function policyOwner(grantee: { grantPrincipal: unknown }): IConstruct | undefined {
  if (Construct.isConstruct(grantee.grantPrincipal)) return grantee.grantPrincipal;
  return Construct.isConstruct(grantee) ? grantee : undefined;
}
