/**
 * Completion watermark of one partition over the records actually fetched.
 *
 * Offsets are not contiguous (transaction markers, compaction), so the
 * tracker never waits for "offset + 1": it only knows the offsets it was
 * given, in fetch order, and reports the highest one below which every
 * tracked record is done. Committing `watermark + 1` therefore never skips
 * an unfinished record, whatever order records finish in.
 */
export class OffsetTracker {
  private readonly offsets: bigint[] = [];
  private readonly done = new Set<bigint>();
  private readonly unfinished = new Set<bigint>();
  private head = 0;
  private last: bigint | undefined;

  /** Records a fetched offset. Offsets must be tracked in increasing order. */
  track(offset: string): void {
    const value = BigInt(offset);
    const previous = this.offsets[this.offsets.length - 1];
    if (previous !== undefined && value <= previous) {
      throw new RangeError(`offset ${offset} tracked after ${previous}; track in fetch order`);
    }
    this.offsets.push(value);
    this.unfinished.add(value);
  }

  /**
   * Marks a tracked offset done. Returns the new watermark when it moved,
   * undefined otherwise.
   */
  complete(offset: string): string | undefined {
    const value = BigInt(offset);
    if (!this.unfinished.delete(value)) {
      throw new RangeError(`offset ${offset} is not tracked or already complete`);
    }
    this.done.add(value);
    let moved = false;
    for (
      let next = this.offsets[this.head];
      next !== undefined && this.done.has(next);
      next = this.offsets[this.head]
    ) {
      this.done.delete(next);
      this.last = next;
      this.head += 1;
      moved = true;
    }
    // A long-lived tracker drops what is below the watermark now and then, so memory follows the
    // records in flight, not every record ever fetched.
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets.splice(0, this.head);
      this.head = 0;
    }
    return moved ? String(this.last) : undefined;
  }

  /** Highest offset below which (inclusive) everything tracked is done. */
  get watermark(): string | undefined {
    return this.last === undefined ? undefined : String(this.last);
  }

  /** Records tracked and not yet below the watermark. */
  get pending(): number {
    return this.offsets.length - this.head;
  }
}
