/**
 * The AWS functions publish the catalogue's metrics as CloudWatch EMF log lines, one flush per invocation:
 * lambda/api.ts driven by API Gateway events on the emulators, its stdout read back and checked against the
 * EMF specification (test/helpers/emf-spec.ts).
 */
import { awaitEmulators, freshBucket, freshTable } from '../helpers/emulators';
import { invokeThroughApiGateway } from '../helpers/api-gateway';
import { emfProblems } from '../helpers/emf-spec';

describe('metrics from the Lambda entry (EMF)', () => {
  it('writes valid EMF lines with records produced and errors by kind, once per invocation', async () => {
    await awaitEmulators();
    process.env.FERRY_TABLE = await freshTable();
    process.env.FERRY_BUCKETS = await freshBucket();
    let handler!: typeof import('../../lambda/api').handler;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require('../../lambda/api').handler;
    });
    const call = (path: string, init?: RequestInit) =>
      invokeThroughApiGateway(handler, new Request(`https://ferry0api.execute-api.us-east-1.amazonaws.com${path}`, init));
    const json = (body: unknown): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.startsWith('{"_aws"')) {
        lines.push(...text.split('\n').filter(Boolean));
        return true;
      }
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write);
    try {
      expect((await call('/v1/topics', json({ name: 'orders', partitions: 1 }))).status).toBe(201);
      const before = lines.length;
      expect((await call('/v1/topics/orders/records', json({ records: [{ value: 'a' }, { value: 'b' }] }))).status).toBe(200);
      const produced = lines.slice(before).map((l) => JSON.parse(l));
      expect(produced).toEqual([
        expect.objectContaining({ Table: process.env.FERRY_TABLE, Topic: 'orders', RecordsProduced: 2, BytesProduced: 6 }),
      ]);
      expect((await call('/v1/topics/nope/records', json({ records: [{ value: 1 }] }))).status).toBe(404);
      expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ Topic: '-', Kind: 'not_found', ProduceErrors: 1 });
      expect((await call('/v1/topics/orders/partitions/0/records?offset=0')).status).toBe(200);
      expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ Topic: 'orders', RecordsFetched: 2 });
    } finally {
      spy.mockRestore();
    }
    for (const l of lines) expect(emfProblems(l)).toEqual([]);
  });
});
