/**
 * The client's producer and delayed delivery, against a real server: `deliverAfterMs` / `deliverAt` are
 * scheduled (the idempotent default producer sends them outside its sequence), unknown message fields are
 * refused before anything is sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FerryClient } from '../../lib/client';
import { startEmbedded, type Embedded } from '../../lib/embedded';

describe('client producer: delayed delivery and message fields', () => {
  let dir: string;
  let ferry: Embedded;
  let client: FerryClient;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-client-delayed-'));
    ferry = await startEmbedded({ dataDir: dir, port: 0, delayPollMs: 20, maintenanceIntervalMs: 0 });
    client = new FerryClient({ url: ferry.url });
    await client.admin().createTopics({ topics: [{ topic: 'later', numPartitions: 1 }] });
  });
  afterAll(async () => {
    await ferry?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const records = async () =>
    (await (await fetch(`${ferry.url}/v1/topics/later/partitions/0/records?offset=0`)).json()).records.map(
      (r: { value: unknown }) => r.value,
    );

  it('schedules deliverAfterMs and deliverAt messages beside immediate ones (idempotent producer)', async () => {
    const producer = client.producer();
    const sent = Date.now();
    const meta = await producer.send({
      topic: 'later',
      messages: [{ value: 'now' }, { value: 'in 300 ms', deliverAfterMs: 300 }, { value: 'at +400 ms', deliverAt: new Date(sent + 400) }],
    });
    expect(meta[0]).toMatchObject({ partition: 0, offset: '0' });
    expect(meta[1]).toMatchObject({ partition: 0, offset: '', scheduledId: expect.any(String) });
    expect(meta[2].scheduledId).toEqual(expect.any(String));
    expect(await records()).toEqual(['now']); // the delayed ones are not visible yet
    const due = Date.now() + 5_000;
    while ((await records()).length < 3 && Date.now() < due) await new Promise((r) => setTimeout(r, 50));
    expect(await records()).toEqual(['now', 'in 300 ms', 'at +400 ms']);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(400);
    // The idempotent sequence went on: the next send is stored once, right after.
    expect((await producer.send({ topic: 'later', messages: [{ value: 'next' }] }))[0].offset).toBe('3');
  });

  it('refuses a message with a field it does not know, naming it, and sends nothing', async () => {
    const producer = client.producer();
    await expect(producer.send({ topic: 'later', messages: [{ value: 'x', deliverAfter: 1000 } as never] })).rejects.toThrow(
      /messages\[0\] has unknown field\(s\) "deliverAfter"; a message takes key, value, headers, partition, timestamp, deliverAt, deliverAfterMs/,
    );
    expect(await records()).toHaveLength(4);
  });
});
