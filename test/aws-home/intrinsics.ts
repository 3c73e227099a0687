/**
 * CloudFormation intrinsics resolved against the emulated deployment: `Ref`, `Fn::GetAtt`, `Fn::Join`,
 * `Fn::Sub` (simple `${Name}` / `${Name.Attr}` forms) and the pseudo parameters. Whatever the template names
 * (the table, a bucket, a function) resolves to the emulated resource's name or ARN, so IAM policies and
 * environment variables read from the template point at what the harness runs.
 */

/** What a logical id resolves to: its `Ref` value and its attributes (`Arn`, ...). */
export interface Physical {
  ref: string;
  attrs: Record<string, string>;
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'FerryExample',
  'AWS::NoValue': '',
};

export class Resolver {
  constructor(private readonly physical: Map<string, Physical>) {}

  /** The value with every intrinsic replaced; throws on one it cannot resolve (a harness gap, not a pass). */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = obj[fn];
      if (fn === 'Ref') return this.ref(arg as string);
      if (fn === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return this.attr(id, attr);
      }
      if (fn === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).join(sep);
      }
      if (fn === 'Fn::Sub') {
        const template = typeof arg === 'string' ? arg : (arg as [string])[0];
        return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          const [id, attr] = name.split('.');
          return attr ? this.attr(id, attr) : this.ref(id);
        });
      }
      if (fn.startsWith('Fn::')) throw new Error(`harness: intrinsic ${fn} is not emulated`);
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(obj[k])]));
  }

  /** `resolve` for values that must come out as a string. */
  string(value: unknown): string {
    const s = this.resolve(value);
    if (typeof s !== 'string') throw new Error(`harness: expected a string, resolved ${JSON.stringify(s)}`);
    return s;
  }

  private ref(id: string): string {
    if (id in PSEUDO) return PSEUDO[id];
    const p = this.physical.get(id);
    if (!p) throw new Error(`harness: Ref ${id} names no emulated resource`);
    return p.ref;
  }

  private attr(id: string, attr: string): string {
    const value = this.physical.get(id)?.attrs[attr];
    if (value === undefined) throw new Error(`harness: Fn::GetAtt ${id}.${attr} is not emulated`);
    return value;
  }
}
