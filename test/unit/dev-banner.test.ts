import { tryItLines } from '../../lib/dev-banner';

describe('ferry dev "Try it" lines', () => {
  it('creates the example topic and names the partition murmur2 picks for "u1"', () => {
    const lines = tryItLines({ url: 'http://127.0.0.1:8080', tokens: false });
    expect(lines[0]).toContain(`-d '{"name":"orders","partitions":3}'`);
    expect(lines[2]).toContain('/v1/topics/orders/partitions/1/records?offset=0'); // the README tour's partition
    expect(lines.join('\n')).not.toContain('authorization');
  });

  it('uses a topic the config made, with its partition count, instead of creating one', () => {
    const lines = tryItLines({ url: 'http://h:1', tokens: false, topic: { name: 'payments', partitions: 6 } });
    expect(lines.some((l) => l.includes('POST http://h:1/v1/topics '))).toBe(false);
    expect(lines[0]).toContain('/v1/topics/payments/records');
    expect(lines[1]).toMatch(/\/v1\/topics\/payments\/partitions\/(\d)\/records\?offset=0'\s+# "u1" lands on partition \1 of 6/);
  });

  it('carries the bearer token when the server checks tokens', () => {
    const lines = tryItLines({ url: 'http://h:1', tokens: true });
    expect(lines[0]).toMatch(/export FERRY_TOKEN=/);
    expect(lines.slice(1).every((l) => l.includes('-H "authorization: Bearer $FERRY_TOKEN"'))).toBe(true);
  });
});
