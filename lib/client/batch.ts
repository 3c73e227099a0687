/** What `eachBatch` receives as `batch`: one fetch's messages of one partition (kafkajs' Batch). */
import type { Batch, KafkaMessage } from './types';

export function batchOf(topic: string, partition: number, highWatermark: string, messages: KafkaMessage[]): Batch {
  return {
    topic,
    partition,
    highWatermark,
    messages,
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => messages[messages.length - 1]?.offset ?? String(BigInt(highWatermark) - 1n),
  };
}
