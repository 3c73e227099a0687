/**
 * The CloudWatch embedded metric format specification's rules, as a checker: what CloudWatch Logs needs to
 * extract metrics from a log line. Returns the problems found (none: valid).
 *
 * Root: a JSON object with `_aws` = { Timestamp: number (ms since the epoch), CloudWatchMetrics: MetricDirective[] }.
 * MetricDirective: Namespace (string, 1–1024), Dimensions (array of DimensionSets, each an array of at most 30
 * strings), Metrics (at most 100 MetricDefinitions { Name: string 1–1024, Unit?: a CloudWatch unit,
 * StorageResolution?: 1 | 60 }). Every dimension a set names is a root member holding a string; every metric
 * Name is a root member holding a number or an array of at most 100 numbers. A document is at most 1 MB.
 */
const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

export function emfProblems(line: string): string[] {
  const problems: string[] = [];
  if (Buffer.byteLength(line) > 1024 * 1024) problems.push('document over 1 MB');
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line);
  } catch {
    return ['not JSON'];
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return ['root is not an object'];
  const aws = doc._aws as Record<string, unknown> | undefined;
  if (!aws || typeof aws !== 'object') return ['no _aws metadata object'];
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp) || aws.Timestamp < 0)
    problems.push('_aws.Timestamp is not a number of ms');
  if (!Array.isArray(aws.CloudWatchMetrics) || aws.CloudWatchMetrics.length === 0)
    return [...problems, '_aws.CloudWatchMetrics is not a non-empty array'];
  for (const [i, d] of (aws.CloudWatchMetrics as Array<Record<string, unknown>>).entries()) {
    const at = `CloudWatchMetrics[${i}]`;
    if (typeof d.Namespace !== 'string' || d.Namespace.length < 1 || d.Namespace.length > 1024) problems.push(`${at}.Namespace`);
    if (!Array.isArray(d.Dimensions)) problems.push(`${at}.Dimensions is not an array`);
    else {
      for (const set of d.Dimensions as unknown[]) {
        if (!Array.isArray(set) || set.length > 30 || !set.every((n) => typeof n === 'string'))
          problems.push(`${at}: a dimension set is not ≤ 30 strings`);
        else for (const n of set) if (typeof doc[n] !== 'string') problems.push(`${at}: dimension ${n} is not a string member of the root`);
      }
    }
    if (!Array.isArray(d.Metrics) || d.Metrics.length > 100) problems.push(`${at}.Metrics is not an array of at most 100`);
    else {
      for (const m of d.Metrics as Array<Record<string, unknown>>) {
        if (typeof m.Name !== 'string' || m.Name.length < 1 || m.Name.length > 1024) problems.push(`${at}: a metric has no Name`);
        if (m.Unit !== undefined && !UNITS.has(String(m.Unit))) problems.push(`${at}: unit ${String(m.Unit)} is not a CloudWatch unit`);
        if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60)
          problems.push(`${at}: StorageResolution`);
        const v = doc[String(m.Name)];
        const ok = typeof v === 'number' || (Array.isArray(v) && v.length <= 100 && v.every((x) => typeof x === 'number'));
        if (!ok) problems.push(`${at}: metric ${String(m.Name)} has no number value in the root`);
      }
    }
  }
  return problems;
}
