/**
 * Ferry's public error kinds. The kind is the contract (it decides the HTTP status and whether a retry may
 * help); the message is for humans and may change.
 */
export const ERROR_KINDS = {
  invalid: { status: 400, retriable: false },
  unauthorized: { status: 401, retriable: false },
  forbidden: { status: 403, retriable: false },
  not_found: { status: 404, retriable: false },
  method_not_allowed: { status: 405, retriable: false },
  conflict: { status: 409, retriable: false },
  fenced: { status: 409, retriable: false },
  too_large: { status: 413, retriable: false },
  unsupported_media_type: { status: 415, retriable: false },
  offset_out_of_range: { status: 416, retriable: false },
  throttled: { status: 429, retriable: true },
  data: { status: 500, retriable: false },
  unavailable: { status: 503, retriable: true },
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

export type ErrorDetails = Record<string, unknown>;

/**
 * An error Ferry reports to its caller.
 *
 * @example
 *   throw new FerryError('not_found', `topic "orders" does not exist`, { topic: 'orders' });
 */
export class FerryError extends Error {
  readonly kind: ErrorKind;
  readonly details: ErrorDetails;

  constructor(kind: ErrorKind, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FerryError';
    this.kind = kind;
    this.details = details;
  }

  get status(): number {
    return ERROR_KINDS[this.kind].status;
  }

  get retriable(): boolean {
    return ERROR_KINDS[this.kind].retriable;
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}

export const invalid = (message: string, details: ErrorDetails = {}) => new FerryError('invalid', message, details);
export const notFound = (message: string, details: ErrorDetails = {}) => new FerryError('not_found', message, details);
