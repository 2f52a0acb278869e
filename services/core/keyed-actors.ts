/**
 * The actor runtime: one actor per key. An actor runs its key's items one at
 * a time in submission order; different keys run in parallel, at most
 * `maxActiveKeys` at once, the others waiting their turn in arrival order.
 * No I/O here: the handler does the work. `onItemDone` reports each item's
 * outcome and must not throw (it runs inside the actor loop).
 */
export class KeyedActors<T extends NonNullable<unknown>> {
  private readonly queues = new Map<string, T[]>();
  private readonly waitingKeys: string[] = [];
  private active = 0;
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly maxActiveKeys: number,
    private readonly handle: (key: string, item: T) => Promise<void>,
    private readonly onItemDone: (key: string, item: T, error: unknown) => void,
  ) {
    if (!Number.isInteger(maxActiveKeys) || maxActiveKeys < 1) {
      throw new RangeError(`maxActiveKeys must be a positive integer, got ${maxActiveKeys}`);
    }
  }

  submit(key: string, item: T): void {
    this.outstanding += 1;
    const queue = this.queues.get(key);
    if (queue !== undefined) {
      queue.push(item);
      return;
    }
    this.queues.set(key, [item]);
    this.waitingKeys.push(key);
    this.pump();
  }

  /** Resolves once every submitted item has been handled. */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.maxActiveKeys) {
      const key = this.waitingKeys.shift();
      if (key === undefined) return;
      this.active += 1;
      void this.runActor(key);
    }
  }

  private async runActor(key: string): Promise<void> {
    const queue = this.queues.get(key);
    for (let item = queue?.shift(); item !== undefined; item = queue?.shift()) {
      let failure: unknown;
      try {
        await this.handle(key, item);
      } catch (error) {
        failure = error;
      }
      this.onItemDone(key, item, failure);
      this.outstanding -= 1;
    }
    this.queues.delete(key);
    this.active -= 1;
    if (this.outstanding === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.pump();
  }
}
