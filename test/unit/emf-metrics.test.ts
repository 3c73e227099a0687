import { EmfMetrics } from '../../lib/adapters/aws/emf-metrics';
import { METRICS, type MetricName } from '../../lib/core/metric-catalog';
import { emfProblems } from '../helpers/emf-spec';

describe('EmfMetrics (CloudWatch embedded metric format)', () => {
  const collect = () => {
    const lines: string[] = [];
    const m = new EmfMetrics(
      { Table: 'ferry-test' },
      (l) => lines.push(l),
      () => 1_764_547_200_000,
    );
    return { m, lines };
  };

  it('writes valid EMF documents, one per set of dimension values, each with the cluster dimension', () => {
    const { m, lines } = collect();
    m.add('RecordsProduced', 3, { Topic: 'orders' });
    m.add('RecordsProduced', 2, { Topic: 'orders' });
    m.add('BytesProduced', 300, { Topic: 'orders' });
    m.add('RecordsProduced', 1, { Topic: 'payments' });
    m.set('GroupLagSeconds', 4.5, { Group: 'billing', Topic: 'orders' });
    m.set('GroupLagSeconds', 1.5, { Group: 'billing', Topic: 'orders' });
    m.set('MaintenanceDuration', 1234);
    const bytes = m.flush();
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(emfProblems(l)).toEqual([]);
    const docs = lines.map((l) => JSON.parse(l));
    expect(docs[0]).toEqual({
      _aws: {
        Timestamp: 1_764_547_200_000,
        CloudWatchMetrics: [
          {
            Namespace: 'Ferry',
            Dimensions: [['Table', 'Topic']],
            Metrics: [
              { Name: 'RecordsProduced', Unit: 'Count' },
              { Name: 'BytesProduced', Unit: 'Bytes' },
            ],
          },
        ],
      },
      Table: 'ferry-test',
      Topic: 'orders',
      RecordsProduced: 5,
      BytesProduced: 300,
    });
    expect(docs[2]).toMatchObject({ Group: 'billing', Topic: 'orders', GroupLagSeconds: 1.5 });
    expect(docs[3]).toMatchObject({ Table: 'ferry-test', MaintenanceDuration: 1234 });
    expect(docs[3]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Table']]);
    expect(bytes).toBe(lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
  });

  it('starts over after a flush and writes nothing when nothing was reported', () => {
    const { m, lines } = collect();
    m.add('Invocations', 1, { Topic: 'orders', Consumer: 'mailer' });
    m.flush();
    expect(m.flush()).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it('takes every metric of the catalogue and refuses a name that is not in it', () => {
    const { m, lines } = collect();
    for (const [name, def] of Object.entries(METRICS)) {
      const dims = Object.fromEntries(def.dimensions.map((d) => [d, 'x']));
      if (def.kind === 'counter') m.add(name as MetricName, 1, dims);
      else m.set(name as MetricName, 1, dims);
    }
    m.flush();
    for (const l of lines) expect(emfProblems(l)).toEqual([]);
    expect(lines.flatMap((l) => JSON.parse(l)._aws.CloudWatchMetrics[0].Metrics.map((x: { Name: string }) => x.Name)).sort()).toEqual(
      Object.keys(METRICS).sort(),
    );
    expect(() => m.add('RecordsProducd', 1)).toThrow(/not in lib\/core\/metric-catalog/);
    expect(() => m.add('GroupLagSeconds', 1)).toThrow(/is a gauge/);
  });

  it('the checker refuses what CloudWatch would not extract', () => {
    expect(emfProblems('{"Topic":"x","RecordsProduced":1}')).toEqual(['no _aws metadata object']);
    const bad = {
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [['Topic']], Metrics: [{ Name: 'N', Unit: 'Records' }] }],
      },
      N: 'one',
    };
    expect(emfProblems(JSON.stringify(bad))).toEqual([
      'CloudWatchMetrics[0]: dimension Topic is not a string member of the root',
      'CloudWatchMetrics[0]: unit Records is not a CloudWatch unit',
      'CloudWatchMetrics[0]: metric N has no number value in the root',
    ]);
  });
});
