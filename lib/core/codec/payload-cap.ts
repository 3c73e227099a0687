/**
 * Caps by encoded size. Lambda takes at most 6 MB each way (DESIGN §4c), counted on the JSON that crosses the
 * boundary, not on the records' raw bytes: base64 adds a third, and a JSON text inside another JSON string (an
 * API Gateway response body) has each quote and backslash escaped again. Records are never cut: a page or
 * batch keeps the longest prefix of whole records that fits.
 */

/** Bytes `text` takes once written as a JSON string (without its two quotes). */
export function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

/** How many of the first items fit: `overhead` plus each item's size plus one separator per item after the first. */
export function fitPrefix(sizes: readonly number[], cap: number, overhead: number): number {
  let total = overhead;
  for (let i = 0; i < sizes.length; i++) {
    total += sizes[i] + (i > 0 ? 1 : 0);
    if (total > cap) return i;
  }
  return sizes.length;
}
