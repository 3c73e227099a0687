/**
 * What a consumer's user can do to its partitions while it runs (kafkajs): `pause` / `resume` whole topics or
 * some partitions, and `seek` a partition to an offset (the next fetch starts there; the new position is
 * committed once a message after it is processed).
 */
import { positionKey } from './offset-manager';

export interface PartitionSelection {
  topic: string;
  /** Default: every partition of the topic. */
  partitions?: number[];
}

export class PartitionControls {
  private readonly pausedTopics = new Set<string>();
  private readonly pausedPartitions = new Set<string>();
  private readonly seeks = new Map<string, bigint>();

  pause(what: PartitionSelection[]): void {
    for (const { topic, partitions } of what) {
      if (!partitions) this.pausedTopics.add(topic);
      else for (const p of partitions) this.pausedPartitions.add(positionKey(topic, p));
    }
  }

  resume(what: PartitionSelection[]): void {
    for (const { topic, partitions } of what) {
      if (!partitions) {
        this.pausedTopics.delete(topic);
        for (const k of [...this.pausedPartitions]) if (k.startsWith(`${topic}#`)) this.pausedPartitions.delete(k);
      } else {
        for (const p of partitions) this.pausedPartitions.delete(positionKey(topic, p));
      }
    }
  }

  /** kafkajs's `consumer.paused()`: the paused partitions named one by one, and whole topics without partitions. */
  paused(): PartitionSelection[] {
    const byTopic = new Map<string, number[]>();
    for (const k of this.pausedPartitions) {
      const at = k.lastIndexOf('#');
      const topic = k.slice(0, at);
      if (!this.pausedTopics.has(topic)) byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(k.slice(at + 1))]);
    }
    return [
      ...[...this.pausedTopics].map((topic) => ({ topic })),
      ...[...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
    ];
  }

  isPaused(topic: string, partition: number): boolean {
    return this.pausedTopics.has(topic) || this.pausedPartitions.has(positionKey(topic, partition));
  }

  seek(topic: string, partition: number, offset: bigint): void {
    this.seeks.set(positionKey(topic, partition), offset);
  }

  /** A seek asked for this partition since the last call, if any (taken: it applies once). */
  takeSeek(topic: string, partition: number): bigint | undefined {
    const key = positionKey(topic, partition);
    const offset = this.seeks.get(key);
    this.seeks.delete(key);
    return offset;
  }

  hasSeek(topic: string, partition: number): boolean {
    return this.seeks.has(positionKey(topic, partition));
  }
}
