interface Lane<T> {
  items: { item: T; dueAtMs: number }[];
  running: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Per-lane FIFO work with a due time per item: a lane runs its items one at
 * a time in order, each no sooner than its due time; lanes run in parallel,
 * at most `maxRunning` items at once. An item waiting for its time holds no
 * slot, so thousands of items held in memory until they fall due cost only a
 * timer per lane. Never early: a timer that fires before the due time (the
 * clock moved) waits again.
 */
export class TimedLanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Lanes due but without a slot, in the order they asked (a Set keeps insertion order). */
  private readonly waitingForSlot = new Set<string>();
  private running = 0;
  private outstanding = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly maxRunning: number,
    private readonly run: (item: T) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxRunning) || maxRunning < 1) {
      throw new RangeError(`maxRunning must be a positive integer, got ${maxRunning}`);
    }
  }

  /** Queues `item` at the end of `lane`; `run` rejecting is the caller's to report, inside `run`. */
  push(lane: string, item: T, dueAtMs: number): void {
    if (this.closed) return;
    let state = this.lanes.get(lane);
    if (state === undefined) {
      state = { items: [], running: false, timer: undefined };
      this.lanes.set(lane, state);
    }
    state.items.push({ item, dueAtMs });
    this.outstanding += 1;
    this.pump(lane);
  }

  /** Items queued or running. */
  get size(): number {
    return this.outstanding;
  }

  /** Starts nothing more; resolves when the running items have finished. */
  close(): Promise<void> {
    this.closed = true;
    for (const state of this.lanes.values()) clearTimeout(state.timer);
    const stillRunning = [...this.lanes.values()].filter((s) => s.running).length;
    this.lanes.clear();
    this.waitingForSlot.clear();
    this.outstanding = stillRunning;
    return this.idle();
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(lane: string): void {
    const state = this.lanes.get(lane);
    if (state === undefined || state.running || this.closed) return;
    const head = state.items[0];
    if (head === undefined) {
      this.lanes.delete(lane);
      return;
    }
    const wait = head.dueAtMs - this.now();
    if (wait > 0) {
      if (state.timer === undefined) {
        state.timer = setTimeout(() => {
          state.timer = undefined;
          this.pump(lane);
        }, wait);
      }
      return;
    }
    if (this.running >= this.maxRunning) {
      this.waitingForSlot.add(lane);
      return;
    }
    state.running = true;
    this.running += 1;
    void this.run(head.item)
      .catch(() => undefined)
      .finally(() => {
        state.running = false;
        this.running -= 1;
        this.outstanding -= 1;
        if (!this.closed) {
          state.items.shift();
          this.pump(lane);
          for (const waiting of this.waitingForSlot) {
            if (this.running >= this.maxRunning) break;
            this.waitingForSlot.delete(waiting);
            this.pump(waiting);
          }
        }
        if (this.outstanding === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
  }
}
