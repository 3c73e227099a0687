/**
 * Push-consumer filters, in the shape of Lambda event source mapping FilterCriteria patterns: a record is
 * delivered when any filter matches it; the others are committed without an invocation.
 *
 *   filters: [{ value: { type: ['order'], total: [{ numeric: ['>', 100] }] } }, { headers: { source: [{ prefix: 'eu-' }] } }]
 *
 * A pattern is an object whose keys are fields of `{key, value, headers}` (key and value as on the HTTP API:
 * JSON, or `{"base64": …}` for binary). A nested object descends; an array lists what the field may be — an
 * equal scalar, or a matcher: `{prefix}`, `{suffix}`, `{exists: true|false}`, `{numeric: [op, n, (op, n)]}`
 * (`=`, `<`, `<=`, `>`, `>=`), `{"anything-but": [values]}`. A field holding an array matches when any element
 * does.
 */
import { payloadToJson } from '../codec/payload';
import type { FetchedRecord } from '../model';

export type FilterPattern = { [field: string]: FilterPattern | FilterValue[] };
type Scalar = string | number | boolean | null;
type FilterValue = Scalar | Record<string, unknown>;

/** At most 5 filters of at most 4 096 bytes each (Lambda's FilterCriteria limits). */
export const MAX_FILTERS = 5;
const MAX_FILTER_BYTES = 4096;
const OPS = new Set(['=', '<', '<=', '>', '>=']);

/** Every problem of a consumer's filters (empty: valid). */
export function filterProblems(filters: unknown): string[] {
  if (filters === undefined) return [];
  if (!Array.isArray(filters)) return ['filters must be a list of patterns'];
  const problems: string[] = [];
  if (filters.length > MAX_FILTERS) problems.push(`filters may hold at most ${MAX_FILTERS} patterns (got ${filters.length})`);
  filters.forEach((f, i) => {
    if (JSON.stringify(f)?.length > MAX_FILTER_BYTES) problems.push(`filters[${i}] is longer than ${MAX_FILTER_BYTES} bytes`);
    patternProblems(f, `filters[${i}]`, problems);
  });
  return problems;
}

function patternProblems(p: unknown, at: string, problems: string[]): void {
  if (typeof p !== 'object' || p === null || Array.isArray(p) || Object.keys(p).length === 0) {
    problems.push(`${at} must be an object of fields`);
    return;
  }
  for (const [field, rule] of Object.entries(p)) {
    const where = `${at}.${field}`;
    if (Array.isArray(rule)) {
      if (rule.length === 0) problems.push(`${where} must list at least one value or matcher`);
      rule.forEach((v, j) => matcherProblem(v, `${where}[${j}]`, problems));
    } else patternProblems(rule, where, problems);
  }
}

function matcherProblem(v: unknown, at: string, problems: string[]): void {
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return;
  if (typeof v !== 'object' || Array.isArray(v)) return void problems.push(`${at} must be a value or a matcher object`);
  const [name, arg, ...rest] = [...Object.keys(v), ...Object.values(v)];
  if (Object.keys(v).length !== 1 || rest.length) return void problems.push(`${at} must have exactly one matcher`);
  const ok =
    ((name === 'prefix' || name === 'suffix') && typeof arg === 'string') ||
    (name === 'exists' && typeof arg === 'boolean') ||
    (name === 'anything-but' && (Array.isArray(arg) || ['string', 'number'].includes(typeof arg))) ||
    (name === 'numeric' && Array.isArray(arg) && validNumeric(arg));
  if (!ok) problems.push(`${at}: ${JSON.stringify(v).slice(0, 80)} is not a matcher (prefix, suffix, exists, numeric, anything-but)`);
}

function validNumeric(arg: unknown[]): boolean {
  if (arg.length !== 2 && arg.length !== 4) return false;
  for (let i = 0; i < arg.length; i += 2) if (!OPS.has(arg[i] as string) || typeof arg[i + 1] !== 'number') return false;
  return true;
}

/** True when `record` matches any of `filters` (no filters: every record). */
export function passes(filters: FilterPattern[] | undefined, record: FetchedRecord): boolean {
  if (!filters?.length) return true;
  const view = { key: payloadToJson(record.key), value: payloadToJson(record.value), headers: { ...record.headers } };
  return filters.some((f) => matchObject(f, view));
}

function matchObject(pattern: FilterPattern, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    // Only `exists: false` rules can match inside a field that is not an object.
    return Object.values(pattern).every((rule) => Array.isArray(rule) && rule.some((m) => isMatcher(m) && m.exists === false));
  }
  const obj = value as Record<string, unknown>;
  return Object.entries(pattern).every(([field, rule]) => {
    const present = Object.prototype.hasOwnProperty.call(obj, field);
    if (!Array.isArray(rule)) return matchObject(rule, present ? obj[field] : undefined);
    return rule.some((m) => matchValue(m, present, obj[field]));
  });
}

const isMatcher = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

function matchValue(m: FilterValue, present: boolean, v: unknown): boolean {
  if (isMatcher(m) && 'exists' in m) return m.exists === present;
  if (!present) return false;
  if (Array.isArray(v)) return v.some((e) => matchValue(m, true, e));
  if (!isMatcher(m)) return m === v;
  if ('prefix' in m) return typeof v === 'string' && v.startsWith(m.prefix as string);
  if ('suffix' in m) return typeof v === 'string' && v.endsWith(m.suffix as string);
  if ('anything-but' in m) {
    const banned = Array.isArray(m['anything-but']) ? m['anything-but'] : [m['anything-but']];
    return !banned.includes(v);
  }
  if ('numeric' in m && typeof v === 'number') {
    const arg = m.numeric as Array<string | number>;
    for (let i = 0; i < arg.length; i += 2) if (!compare(arg[i] as string, v, arg[i + 1] as number)) return false;
    return true;
  }
  return false;
}

function compare(op: string, a: number, b: number): boolean {
  return op === '=' ? a === b : op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}
