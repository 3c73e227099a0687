/**
 * The client's HTTP transport: JSON in and out, Ferry's error shape turned into `FerryError`, and a retry
 * policy that only repeats what cannot have had an effect, or what is safe to repeat.
 *
 * Retried for every request: a connection that was never made (refused, DNS, connect timeout), 429 and 503
 * (the server says it did not do it, with `Retry-After`). Retried only for `idempotent` requests: a lost
 * connection or timeout after the request may have been sent, and other 5xx. Reads, heartbeats, leaves and
 * offset commits are idempotent; a plain produce is not (a retry could store the records twice). Once the
 * idempotent producer exists, a produce carrying `producer: {id, epoch, sequence}` becomes `idempotent: true`.
 */
import { FerryError, ERROR_KINDS, type ErrorKind } from '../protocol/errors';

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First backoff in ms, doubled each time with jitter (default 100). */
  initialRetryTime?: number;
  /** Largest backoff in ms (default 5000). */
  maxRetryTime?: number;
}

export interface TransportOptions {
  url: string;
  token?: string;
  retry?: RetryOptions;
  /** Per-request timeout beyond any long-poll wait (default 30 000 ms). */
  requestTimeoutMs?: number;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** True when repeating the request cannot change the outcome. */
  idempotent: boolean;
  /** Extra time the server may legitimately hold the request (long polls). */
  waitMs?: number;
  signal?: AbortSignal;
  /** Override the retry count (0: no retries). */
  retries?: number;
}

/** Connection errors that mean the request never left this machine. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

const isKind = (k: unknown): k is ErrorKind => typeof k === 'string' && k in ERROR_KINDS;

export class Transport {
  readonly url: string;
  private readonly retry: Required<RetryOptions>;

  constructor(private readonly options: TransportOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.retry = { retries: 5, initialRetryTime: 100, maxRetryTime: 5_000, ...options.retry };
  }

  async request<T = unknown>(req: RequestOptions): Promise<T> {
    const retries = req.retries ?? this.retry.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(req);
      } catch (e) {
        if (req.signal?.aborted || attempt >= retries || !retriable(e, req.idempotent)) throw e;
        const base = Math.min(this.retry.maxRetryTime, this.retry.initialRetryTime * 2 ** attempt);
        const after = e instanceof FerryError && typeof e.details.retryAfterMs === 'number' ? e.details.retryAfterMs : 0;
        await sleep(Math.max(after, base / 2 + (Math.random() * base) / 2), req.signal);
      }
    }
  }

  private async once<T>(req: RequestOptions): Promise<T> {
    const url = new URL(this.url + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const timeout = AbortSignal.timeout((req.waitMs ?? 0) + (this.options.requestTimeoutMs ?? 30_000));
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal,
      });
    } catch (e) {
      if (req.signal?.aborted) throw e;
      const code = errorCode(e);
      throw new FerryError(
        'unavailable',
        `cannot reach Ferry at ${this.url}: ${code ?? (e as Error).message}`,
        { connection: true, sent: !(code && NOT_SENT.has(code)), code },
        { cause: e },
      );
    }
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
    let body: { error?: unknown; message?: unknown; details?: unknown } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not Ferry's error shape (a proxy, API Gateway): keep the status
    }
    const kind: ErrorKind = isKind(body.error) ? body.error : kindForStatus(res.status);
    const details = (body.details && typeof body.details === 'object' ? body.details : {}) as Record<string, unknown>;
    const retryAfter = Number(res.headers.get('retry-after'));
    if (Number.isFinite(retryAfter) && retryAfter > 0) details.retryAfterMs = retryAfter * 1000;
    details.status = res.status;
    const message = typeof body.message === 'string' ? body.message : `${req.method} ${req.path} answered ${res.status}`;
    throw new FerryError(kind, message, details);
  }
}

/** The retry policy (see the module comment). */
export function retriable(e: unknown, idempotent: boolean): boolean {
  if (!(e instanceof FerryError)) return false;
  if (e.details.connection === true) return e.details.sent === false || idempotent;
  const status = e.details.status;
  if (status === 429 || status === 503) return true;
  return idempotent && typeof status === 'number' && status >= 500;
}

function kindForStatus(status: number): ErrorKind {
  for (const [kind, v] of Object.entries(ERROR_KINDS)) if (v.status === status) return kind as ErrorKind;
  return status >= 500 ? 'unavailable' : 'invalid';
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
/** Waits `ms`, or less when `signal` aborts (never rejects). Plain timers: the client also runs in browsers. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
