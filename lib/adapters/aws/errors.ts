/**
 * How the AWS adapters report SDK failures. The SDK has already retried throttling, 5xx and network errors
 * with backoff when we see them, so those become `unavailable` (503 with Retry-After; the client may retry).
 * Anything else (access denied, a missing table or bucket, a malformed request) is a deployment or code
 * problem: it stays a plain Error, so the HTTP app still answers 503 but reports it as unexpected.
 * The SDK error is always kept as `cause`.
 */
import { FerryError } from '../../protocol/errors';

interface SdkError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'TransactionInProgressException',
  'LimitExceededException',
]);

const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** True for failures that a later attempt may not meet: throttling, 5xx, timeouts, lost connections. */
export function isTransient(e: unknown): boolean {
  const err = e as SdkError;
  if (!err || typeof err !== 'object') return false;
  const status = err.$metadata?.httpStatusCode;
  return (
    Boolean(err.$retryable) ||
    (status !== undefined && status >= 500) ||
    status === 429 ||
    THROTTLING.has(err.name ?? '') ||
    err.name === 'TimeoutError' ||
    err.name === 'AbortError' ||
    NETWORK.has(err.code ?? '')
  );
}

/** How many attempts the SDK made (more than one: an earlier attempt may have landed). */
export function attemptsOf(e: unknown): number {
  return (e as SdkError)?.$metadata?.attempts ?? 1;
}

export function errorName(e: unknown): string | undefined {
  return (e as SdkError)?.name;
}

/**
 * A write cancelled because another in-flight transaction holds one of its items: nothing was applied, so the
 * core treats it as a lost race (`details.reason: "conflict"`, lib/core/retry.ts) and tries again with backoff.
 * The SDK does not retry it (it is neither throttling nor transient to the SDK), so it is never hidden.
 */
export function conflict(service: string, what: string, e: unknown): FerryError {
  return new FerryError(
    'unavailable',
    `${service}: ${what} conflicted with another transaction; try again`,
    { reason: 'conflict' },
    { cause: e },
  );
}

/** The error to throw for a failed SDK call: `unavailable` when transient, else a plain Error. */
export function sdkFailure(service: string, what: string, e: unknown): Error {
  if (errorName(e) === 'TransactionConflictException') return conflict(service, what, e);
  const detail = `${errorName(e) ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
  if (isTransient(e)) {
    return new FerryError('unavailable', `${service} is unavailable (${what}): ${detail}; try again`, {}, { cause: e });
  }
  return new Error(`${service} ${what} failed: ${detail}`, { cause: e });
}
