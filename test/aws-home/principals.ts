/**
 * Who is calling: every Lambda instance of a function signs with the access key id `<function logical id>`,
 * so a proxy in front of an emulator knows the function from the SigV4 `Credential=` of the request and
 * authorises it with that function's role policies. Signatures are not verified (the callers are ours).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ACCOUNT } from './intrinsics';
import { denialReason, evaluate, type Decision, type Statement } from './iam-policy';

export interface Principal {
  accessKeyId: string;
  /** `arn:aws:sts::…:assumed-role/<role>/<session>`, as AWS names a Lambda function's caller identity. */
  arn: string;
  statements: Statement[];
}

/** The harness's own test caller: an administrator, like a developer's credentials. */
export const ADMIN_KEY = 'HARNESSADMIN';

export interface Check {
  action: string;
  resource: string;
}

export interface Denial extends Check {
  principal: string;
  decision: Decision;
  message: string;
}

export class Principals {
  private readonly byKey = new Map<string, Principal>();
  readonly denials: Denial[] = [];

  constructor() {
    this.add({
      accessKeyId: ADMIN_KEY,
      arn: `arn:aws:iam::${ACCOUNT}:user/harness-admin`,
      statements: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    });
  }

  add(p: Principal): void {
    this.byKey.set(p.accessKeyId, p);
  }

  /** The principal that signed the request; undefined for an unknown key or an unsigned request. */
  fromHeaders(headers: IncomingHttpHeaders): Principal | undefined {
    const key = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''))?.[1];
    return key ? this.byKey.get(key) : undefined;
  }

  get(accessKeyId: string): Principal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** The first check `p` fails, recorded as a denial, or undefined when every check passes. */
  authorize(p: Principal, checks: readonly Check[]): Denial | undefined {
    for (const c of checks) {
      const decision = evaluate(p.statements, c.action, c.resource);
      if (decision === 'allow') continue;
      const denial: Denial = {
        ...c,
        principal: p.accessKeyId,
        decision,
        message: `User: ${p.arn} is not authorized to perform: ${c.action} on resource: ${c.resource} ${denialReason(decision, c.action)}`,
      };
      this.denials.push(denial);
      return denial;
    }
    return undefined;
  }
}

/** The request's Authorization with its access key replaced: the emulators only know their own dummy key. */
export function withEmulatorKey(authorization: string | undefined, key: string): string | undefined {
  return authorization?.replace(/Credential=[^/,\s]+\//, `Credential=${key}/`);
}
