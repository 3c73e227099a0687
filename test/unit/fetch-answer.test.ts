/** The fetch answer is capped by its encoded size: whole records, at least one, a clear 413 for one too big alone. */
import { fetchAnswerJson } from '../../lib/http/fetch-answer';
import type { FetchResult } from '../../lib/core/model';
import { jsonPayload } from '../helpers/records';

const page = (values: string[]): FetchResult => ({
  records: values.map((v, i) => ({ key: null, value: jsonPayload(v), headers: {}, timestamp: 1, offset: BigInt(i) })),
  nextOffset: BigInt(values.length),
  highWatermark: BigInt(values.length),
  logStartOffset: 0n,
});

describe('fetchAnswerJson', () => {
  it('keeps every record when the escaped answer fits', () => {
    const json = JSON.parse(fetchAnswerJson(page(['a', 'b']), 64 * 1024));
    expect(json.records.map((r: any) => r.value)).toEqual(['a', 'b']);
    expect(json.nextOffset).toBe('2');
  });

  it('cuts at whole records counted escaped, and points nextOffset at the first left out', () => {
    const q = '"'.repeat(20_000); // 40 kB of JSON text, 80 kB escaped
    const text = fetchAnswerJson(page([q, q, q]), 200_000);
    const json = JSON.parse(text);
    expect(json.records).toHaveLength(2);
    expect(json.nextOffset).toBe('2');
    expect(Buffer.byteLength(JSON.stringify(text))).toBeLessThanOrEqual(200_000);
  });

  it('answers too_large naming the offset for a record that cannot fit alone', () => {
    expect(() => fetchAnswerJson(page(['"'.repeat(100_000)]), 100_000)).toThrow(
      expect.objectContaining({ kind: 'too_large', details: expect.objectContaining({ offset: '0' }) }),
    );
  });
});
