/**
 * When `ferry consume` without --follow is done: every partition it owns in the current generation has
 * reached the high watermark seen at the start.
 *
 * Positions only move forward. They are learned from two sources that race: the records this process
 * consumed, and the group's committed offsets, read over HTTP at a join — an answer that may have been read
 * before this process's own latest commit and arrive after it. Letting that older answer move a position back
 * left the command waiting forever for records that it had already printed.
 */
export interface Assignment {
  generation: number;
  partitions: number[];
}

export class CatchUp {
  private readonly positions = new Map<number, bigint>();
  private generation = -1;

  /** `ends`: each partition's high watermark when the command started. */
  constructor(private readonly ends: ReadonlyMap<number, bigint>) {}

  /** The group's committed offset (or, with none, the log start) for a partition, learned at a join. */
  learned(partition: number, offset: bigint): void {
    this.advance(partition, offset);
  }

  /** A record at `offset` was consumed: the position is the next offset. */
  consumed(partition: number, offset: bigint): void {
    this.advance(partition, offset + 1n);
  }

  /** The positions of `generation` are known (its join was handled). */
  joined(generation: number): void {
    this.generation = generation;
  }

  /** True once every partition of the current assignment is at or past its end. */
  done(assignment: Assignment | undefined): boolean {
    if (!assignment || assignment.generation !== this.generation) return false;
    return assignment.partitions.every((p) => (this.positions.get(p) ?? -1n) >= (this.ends.get(p) ?? 0n));
  }

  private advance(partition: number, offset: bigint): void {
    const now = this.positions.get(partition);
    if (now === undefined || offset > now) this.positions.set(partition, offset);
  }
}
