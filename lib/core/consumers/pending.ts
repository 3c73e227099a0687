/** Whether a push consumer has anything to do: reads only, so a sweep that finds nothing writes nothing. */
import type { Dispatcher } from './dispatcher';

/** True when some partition (lane) has records past its committed offset, or a retry waiting. */
export async function hasWork(d: Dispatcher): Promise<boolean> {
  const log = d.log;
  const topic = await log.topics.get(d.config.topic);
  if (await d.control.paused(topic)) return false;
  const states = new Map((await d.leases.all(topic)).map((s) => [`${s.partition}~${s.lane}`, s]));
  for (let p = 0; p < topic.partitionCount; p++) {
    const head = await log.fetcher.head(topic, p);
    for (let lane = 0; lane < d.lanes; lane++) {
      const s = states.get(`${p}~${lane}`);
      const pending = s
        ? head.nextOffset > s.offset || s.retryAt > 0
        : d.config.startingPosition !== 'latest' && head.nextOffset > head.logStartOffset;
      if (pending) return true;
    }
  }
  return false;
}
