/**
 * Reading a JSON request body defensively: content type, size cap (declared and actual), strict UTF-8,
 * bounded nesting (no stack overflow anywhere later), well-formed strings (no lone surrogates).
 */
import { FerryError, invalid } from '../protocol/errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(req: Request, maxBytes: number, maxDepth: number): Promise<unknown> {
  const type = req.headers.get('content-type');
  const [mime, ...params] = (type ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='));
  if (mime !== 'application/json' || (charset && !/^charset="?utf-8"?$/.test(charset))) {
    throw new FerryError(
      'unsupported_media_type',
      `send the body as JSON with "content-type: application/json" (got ${type ? JSON.stringify(type) : 'no content type'})`,
    );
  }
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    if (!/^\d{1,15}$/.test(declared)) throw invalid(`content-length ${JSON.stringify(declared)} is not a number`);
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes, Number(declared));
  }
  const bytes = await readCapped(req, maxBytes);
  if (bytes.length === 0) throw invalid('the request body is empty; send a JSON object');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid('the request body is not valid UTF-8');
  }
  checkDepth(text, maxDepth);
  if (MAYBE_LOSSY.test(text)) checkNumbers(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  // A lone surrogate can only come from a \uD800-\uDFFF escape (strict UTF-8 holds none): without one, skip
  // the walk. The pattern may match where no escape is (an escaped backslash before "u"): then walk anyway.
  if (SURROGATE_ESCAPE.test(text)) checkStrings(value, '');
  return value;
}

function tooLarge(maxBytes: number, size?: number): FerryError {
  return new FerryError('too_large', `the request body is larger than the limit of ${maxBytes} bytes${size ? ` (${size} bytes)` : ''}`, {
    maxRequestBytes: maxBytes,
  });
}

async function readCapped(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A number literal that may not survive as a double: 16+ digits in a row, or a 3-digit exponent. */
const MAYBE_LOSSY = /\d{16}|[eE][+-]?\d{3}/;
const NUMBER_OR_STRING = /"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Keys and values come back exactly as sent, so a number that a double cannot hold is refused rather than
 * changed: one that overflows (1e400 would become null) or underflows to 0, or an integer beyond 2^53 that
 * would lose digits (send such ids as strings). Strings are skipped; only literals outside them count.
 */
export function checkNumbers(text: string): void {
  NUMBER_OR_STRING.lastIndex = 0;
  for (let m = NUMBER_OR_STRING.exec(text); m !== null; m = NUMBER_OR_STRING.exec(text)) {
    if (m[0] === '"') {
      let end = m.index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      NUMBER_OR_STRING.lastIndex = end + 1;
      continue;
    }
    const literal = m[0];
    const n = Number(literal);
    const exactInteger = /^-?\d+$/.test(literal) ? BigInt(literal) === BigInt(n) : true;
    const underflow = n === 0 && /[1-9]/.test(literal.split(/[eE]/)[0]);
    if (!Number.isFinite(n) || !exactInteger || underflow) {
      const shown = literal.length > 40 ? `${literal.slice(0, 40)}…` : literal;
      throw invalid(`the number ${shown} cannot be stored exactly (JSON numbers are 64-bit floating point here); send it as a string`, {
        position: m.index,
      });
    }
  }
}
const NESTING = /["{}[\]]/g;

/**
 * Refuses nesting deeper than `maxDepth` with a linear scan, before any recursive code sees the value.
 * Jumps from one structural character or quote to the next (a regex scan), and over strings with indexOf.
 */
export function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  NESTING.lastIndex = 0;
  for (let m = NESTING.exec(text); m !== null; m = NESTING.exec(text)) {
    const c = text.charCodeAt(m.index);
    if (c === 0x22) {
      // Skip the string: its end is the next quote preceded by an even number of backslashes.
      let end = m.index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return; // unterminated: JSON.parse refuses it
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      NESTING.lastIndex = end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw invalid(`JSON nesting is deeper than the limit of ${maxDepth}`);
    } else depth--;
  }
}

/** Every string and object key must be well-formed UTF-16 (a lone surrogate cannot be stored as UTF-8). */
function checkStrings(v: unknown, path: string): void {
  if (typeof v === 'string') {
    if (!v.isWellFormed()) throw invalid(`${path || 'body'}: string contains a lone surrogate`, recordIndex(path));
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkStrings(v[i], `${path}[${i}]`);
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      if (!k.isWellFormed()) throw invalid(`${path || 'body'}: a property name contains a lone surrogate`, recordIndex(path));
      checkStrings((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    }
  }
}

/** `records[3].value…` → `{ index: 3 }`: a bad record is named by its index. */
function recordIndex(path: string): { index?: number } {
  const m = /^records\[(\d+)\]/.exec(path);
  return m ? { index: Number(m[1]) } : {};
}
