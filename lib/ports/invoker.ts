/** Invokes a consumer's handler (a Lambda function, a local module, a webhook) with a batch of records. */
export interface Invoker {
  /**
   * Resolves when the handler succeeded; `batchItemFailures` names the offsets of records that failed (the
   * batch is retried from the first of them). Rejects when the whole batch failed.
   */
  invoke(target: string, event: ConsumerEvent): Promise<InvokeResult>;

  /**
   * Largest event (bytes of its JSON) one invocation takes, if the target has a limit (Lambda: 6 MB for a
   * synchronous invoke). The dispatcher cuts a batch to fit; undefined: no limit.
   */
  readonly maxEventBytes?: number;

  /**
   * Checks that `target` can be invoked at all (a module that loads and exports a handler, a well-formed URL)
   * before any record is sent to it; throws naming what is wrong. Optional: a remote function is checked
   * where it is deployed.
   */
  check?(target: string): Promise<void>;
}

export interface ConsumerEventRecord {
  topic: string;
  partition: number;
  /** Decimal string. */
  offset: string;
  /** As on the HTTP API: any JSON value, binary as `{"base64": "..."}`, null when absent. */
  key: unknown;
  value: unknown;
  headers: Record<string, string>;
  timestamp: number;
}

/** The event a handler receives (Kinesis-like): one partition's records, in offset order. */
export interface ConsumerEvent {
  records: ConsumerEventRecord[];
}

export interface InvokeResult {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** The handler's answer → which records failed. Anything without `batchItemFailures` is full success. */
export function toInvokeResult(answer: unknown): InvokeResult {
  const failures = (answer as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return { batchItemFailures: [] };
  return {
    batchItemFailures: failures.map((f) => ({ itemIdentifier: String((f as { itemIdentifier?: unknown })?.itemIdentifier) })),
  };
}

/**
 * The handler could not be reached or did not run: the target is throttled (Lambda's 429, a webhook's 429 or
 * 503), the invoke service failed (5xx), or the connection failed before a request was sent. Not the
 * handler's failure: the dispatcher retries it with backoff until `maxRecordAgeMs` without counting it toward
 * `maxRetries`.
 */
export class InvokeUnavailableError extends Error {
  constructor(
    message: string,
    /** The target's own hint (a Retry-After), if it gave one. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'InvokeUnavailableError';
  }
}
