/**
 * Props validation as a rule table (the shape of aws-sqs `validate-queue-props.ts`): every rule runs, every
 * violation is reported at once with the value received and the range allowed, and values that are still
 * unresolved tokens at construction time are skipped (CloudFormation checks them, or the handler does).
 */
import { Duration, Token } from 'aws-cdk-lib';

/** One rule: returns a message when `props` break it, `undefined` when they do not (or cannot be checked). */
export type Rule<P> = (props: P) => string | undefined;

/** Thrown by a construct whose props break one or more rules; `problems` lists every one of them. */
export class FerryPropsError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${subject}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FerryPropsError';
  }
}

/** Runs every rule and throws one `FerryPropsError` listing all violations. */
export function validateProps<P>(subject: string, props: P, rules: readonly Rule<P>[]): void {
  const problems = rules.map((rule) => rule(props)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new FerryPropsError(subject, problems);
}

function unresolved(value: unknown): boolean {
  return (typeof value === 'number' || typeof value === 'string') && Token.isUnresolved(value);
}

/** `name` must be an integer in [min, max] when given. */
export function integerRule<P>(name: string, get: (p: P) => number | undefined, min: number, max: number): Rule<P> {
  return (p) => {
    const v = get(p);
    if (v === undefined || unresolved(v)) return undefined;
    if (!Number.isInteger(v) || v < min || v > max) {
      return `${name} must be an integer from ${min} to ${max}; received ${v}`;
    }
    return undefined;
  };
}

/** A Duration given as `name` must lie in [min, max] (compared in milliseconds). */
export function durationRule<P>(name: string, get: (p: P) => Duration | undefined, min: Duration, max: Duration): Rule<P> {
  return (p) => {
    const d = get(p);
    if (d === undefined || d.isUnresolved()) return undefined;
    const ms = d.toMilliseconds();
    if (ms < min.toMilliseconds() || ms > max.toMilliseconds()) {
      return `${name} must be from ${min.toHumanString()} to ${max.toHumanString()}; received ${d.toHumanString()}`;
    }
    return undefined;
  };
}

/** Topic, group and consumer names (DESIGN.md §3): `[a-zA-Z0-9._-]{1,249}`, not `.` or `..`. */
export const NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;

export function nameRule<P>(name: string, get: (p: P) => string | undefined): Rule<P> {
  return (p) => {
    const v = get(p);
    if (v === undefined || unresolved(v)) return undefined;
    if (!NAME_PATTERN.test(v) || v === '.' || v === '..') {
      return `${name} must be 1 to 249 characters of [a-zA-Z0-9._-] and not "." or ".."; received ${JSON.stringify(v)}`;
    }
    return undefined;
  };
}
