/**
 * The embedded server's log: human text by default, or one JSON object a line (`ferry dev --log-format json`)
 * with the fields Powertools Logger writes on Lambda — `level`, `message`, `timestamp`, `service` — plus the
 * event's own fields, for log shippers. Never a record, a body or a credential.
 */
export type LogFormat = 'text' | 'json';

export interface DevLog {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** An error as log fields: name, message, stack and causes. */
export function errorFields(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  const out: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  if (error.cause !== undefined && depth < 3) out.cause = errorFields(error.cause, depth + 1);
  return out;
}

export function devLog(
  format: LogFormat,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): DevLog {
  if (format === 'json') {
    const line = (level: string, message: string, fields: Record<string, unknown> = {}) =>
      JSON.stringify({ level, message, timestamp: new Date().toISOString(), service: 'ferry-dev', ...fields });
    return {
      info: (m, f) => out(line('INFO', m, f)),
      error: (m, f) => err(line('ERROR', m, f)),
    };
  }
  const text = (message: string, fields: Record<string, unknown> = {}) => {
    const { error, ...rest } = fields;
    const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const why =
      error === undefined
        ? ''
        : typeof error === 'object' && error
          ? ` — ${String((error as { stack?: unknown; message?: unknown }).stack ?? (error as { message?: unknown }).message)}`
          : ` — ${String(error)}`;
    return `${message}${extra.length ? ` (${extra.join(', ')})` : ''}${why}`;
  };
  return {
    info: (m, f) => out(text(m, f)),
    error: (m, f) => err(`ferry: ${text(m, f)}`),
  };
}
