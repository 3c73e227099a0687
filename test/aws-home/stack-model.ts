/**
 * What the harness reads from the synthesized template: the table and buckets to create in the emulators,
 * each Lambda function (code, handler, environment, timeout, role policies), the HTTP API's routes and the
 * topic custom resources. Every right and setting comes from the template, resolved (intrinsics.ts) to the
 * emulated resources' names and ARNs.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Statement } from './iam-policy';
import { ACCOUNT, REGION, Resolver, type Physical } from './intrinsics';
import type { CfnTemplate } from './synth';

export interface FunctionModel {
  logicalId: string;
  name: string;
  arn: string;
  roleArn: string;
  /** Directory of the function's code: the CDK asset (the esbuild bundle) or the inline code written out. */
  codeDir: string;
  /** `file.export`, as in the template. */
  handler: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** ReservedConcurrentExecutions: instances past it are throttled (429), as Lambda does. */
  reservedConcurrency?: number;
  /** Every statement of every policy attached to the function's role. */
  statements: Statement[];
}

export interface RouteModel {
  method: string;
  /** The route path with `{param}` / `{proxy+}` segments, or `$default`. */
  path: string;
  routeKey: string;
  functionId: string;
  authorizationType: string;
}

export interface StackModel {
  tables: Array<{ logicalId: string; name: string }>;
  buckets: Array<{ logicalId: string; name: string; directory: boolean }>;
  functions: Map<string, FunctionModel>;
  routes: RouteModel[];
  apiId: string;
  topics: Array<{ logicalId: string; properties: Record<string, unknown> }>;
  resolver: Resolver;
}

const suffix = () => randomBytes(4).toString('hex');

/** Physical names for every resource; unique per harness so several harnesses share the emulators. */
function physicalNames(template: CfnTemplate): Map<string, Physical> {
  const run = suffix();
  const out = new Map<string, Physical>();
  for (const [id, r] of Object.entries(template.Resources)) {
    const name = `${id.toLowerCase().slice(0, 40)}-${run}`;
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        out.set(id, {
          ref: name,
          attrs: {
            Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`,
            StreamArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}/stream/x`,
          },
        });
        break;
      case 'AWS::S3::Bucket':
        out.set(id, { ref: name, attrs: { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` } });
        break;
      case 'AWS::S3Express::DirectoryBucket': {
        const dir = `${name.slice(0, 30)}--use1-az4--x-s3`;
        out.set(id, { ref: dir, attrs: { Arn: `arn:aws:s3express:${REGION}:${ACCOUNT}:bucket/${dir}` } });
        break;
      }
      case 'AWS::Lambda::Function':
        out.set(id, { ref: `${id}-${run}`, attrs: { Arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}-${run}` } });
        break;
      case 'AWS::IAM::Role':
        out.set(id, { ref: id, attrs: { Arn: `arn:aws:iam::${ACCOUNT}:role/${id}`, RoleId: `AROA${id.slice(0, 12).toUpperCase()}` } });
        break;
      case 'AWS::Logs::LogGroup':
        out.set(id, { ref: `/aws/lambda/${id}`, attrs: { Arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${id}:*` } });
        break;
      case 'AWS::ApiGatewayV2::Api':
        out.set(id, {
          ref: `ferryapi${run.slice(0, 2)}`,
          attrs: { ApiEndpoint: `https://ferryapi${run.slice(0, 2)}.execute-api.${REGION}.amazonaws.com` },
        });
        break;
      default:
        // Anything else (integrations, stages, rules): a stable placeholder; ARNs of them are never checked.
        out.set(id, { ref: id, attrs: { Arn: `arn:aws:emulated:${REGION}:${ACCOUNT}:${id}` } });
    }
  }
  return out;
}

/** Reads the template into the model; `codeRoot` is where inline function code is written. */
export function readStack(template: CfnTemplate, assemblyDir: string, codeRoot: string): StackModel {
  const physical = physicalNames(template);
  const resolver = new Resolver(physical);
  const resources = Object.entries(template.Resources);
  const ofType = (...types: string[]) => resources.filter(([, r]) => types.includes(r.Type));

  const statementsByRole = new Map<string, Statement[]>();
  const addStatements = (roleId: string, doc: any) => {
    const s = resolver.resolve(doc.Statement) as Statement[];
    statementsByRole.set(roleId, [...(statementsByRole.get(roleId) ?? []), ...s]);
  };
  for (const [, r] of ofType('AWS::IAM::Policy')) {
    for (const role of r.Properties.Roles ?? []) addStatements(role.Ref, r.Properties.PolicyDocument);
  }
  for (const [id, r] of ofType('AWS::IAM::Role')) {
    for (const p of r.Properties?.Policies ?? []) addStatements(id, p.PolicyDocument);
    // Managed policies (AWSLambdaBasicExecutionRole on the Provider framework) grant only logs: not emulated.
  }

  const functions = new Map<string, FunctionModel>();
  for (const [id, r] of ofType('AWS::Lambda::Function')) {
    const p = r.Properties;
    const roleId = p.Role['Fn::GetAtt']?.[0] as string;
    let codeDir: string;
    if (p.Code.ZipFile !== undefined) {
      codeDir = path.join(codeRoot, id);
      fs.mkdirSync(codeDir, { recursive: true });
      fs.writeFileSync(path.join(codeDir, 'index.js'), resolver.string(p.Code.ZipFile));
    } else {
      codeDir = path.join(assemblyDir, `asset.${String(p.Code.S3Key).replace(/\.zip$/, '')}`);
    }
    functions.set(id, {
      logicalId: id,
      name: physical.get(id)!.ref,
      arn: physical.get(id)!.attrs.Arn,
      roleArn: physical.get(roleId)!.attrs.Arn,
      codeDir,
      handler: p.Handler,
      env: resolver.resolve(p.Environment?.Variables ?? {}) as Record<string, string>,
      timeoutMs: (p.Timeout ?? 3) * 1000,
      reservedConcurrency: p.ReservedConcurrentExecutions === undefined ? undefined : Number(p.ReservedConcurrentExecutions),
      statements: statementsByRole.get(roleId) ?? [],
    });
  }

  const integrations = new Map<string, string>();
  for (const [id, r] of ofType('AWS::ApiGatewayV2::Integration')) {
    integrations.set(id, r.Properties.IntegrationUri['Fn::GetAtt'][0]);
  }
  const routes: RouteModel[] = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => {
    const routeKey = r.Properties.RouteKey as string;
    const target = resolver.string(r.Properties.Target).replace(/^integrations\//, '');
    const [method, routePath] = routeKey === '$default' ? ['ANY', '$default'] : routeKey.split(' ');
    return {
      method,
      path: routePath,
      routeKey,
      functionId: integrations.get(target)!,
      authorizationType: r.Properties.AuthorizationType ?? 'NONE',
    };
  });

  const [apiId] = ofType('AWS::ApiGatewayV2::Api').map(([id]) => physical.get(id)!.ref);
  return {
    tables: ofType('AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable').map(([id]) => ({ logicalId: id, name: physical.get(id)!.ref })),
    buckets: ofType('AWS::S3::Bucket', 'AWS::S3Express::DirectoryBucket').map(([id, r]) => ({
      logicalId: id,
      name: physical.get(id)!.ref,
      directory: r.Type === 'AWS::S3Express::DirectoryBucket',
    })),
    functions,
    routes,
    apiId,
    topics: ofType('Custom::FerryTopic').map(([id, r]) => ({
      logicalId: id,
      properties: resolver.resolve(r.Properties) as Record<string, unknown>,
    })),
    resolver,
  };
}
