import { setTimeout as sleep } from "node:timers/promises";
import type {
  FetchedRecord,
  OfferAnswer,
  SliceOffset,
  SliceOutput,
} from "../adapters/kafka/index.ts";
import {
  afterFailure,
  backoffDelayMs,
  decodeEntry,
  describeError,
  ErrorCode,
  encodeEntry,
  type Failure,
  isWalError,
  KeyChains,
  type NamespaceConfig,
  OffsetTracker,
  planWait,
  RecentIds,
  TimedLanes,
  type WalEntry,
  walHeaders,
} from "../core/index.ts";
import type { DeliveryMetrics, Logger } from "../observability/index.ts";

/** The Kafka side of a slice: its transactional producer and its partitions in the consumer. */
export interface SliceIO {
  /** Fences earlier owners of the slice (ADR 0001); required before the first commit. */
  claim(): Promise<void>;
  /** Writes the outputs and commits the offsets in one transaction. */
  commit(outputs: SliceOutput[], offsets: SliceOffset[]): Promise<void>;
  /** The group's committed offset of this slice's partition of each topic, and where each starts and ends. */
  positions(
    topics: string[],
  ): Promise<Map<string, { committed: bigint | undefined; low: bigint; high: bigint }>>;
  seek(topic: string, offset: bigint): void;
  resume(topic: string): void;
}

/** Applies an entry to its target at its log position; rejects with the target's error. */
export type Deliver = (
  ns: NamespaceConfig,
  entry: WalEntry,
  position: { partition: number; version: bigint },
  headers: Record<string, string>,
) => Promise<void>;

export interface SliceTopics {
  log: string;
  /** Retry tier n is `retries[n - 1]`. */
  retries: string[];
  deadLetter: string;
  holds: string;
}

export interface SliceOptions {
  partition: number;
  topics: SliceTopics;
  /** The namespace's latest config; undefined once deleted. */
  namespace: () => NamespaceConfig | undefined;
  io: SliceIO;
  deliver: Deliver;
  logger: Logger;
  metrics: DeliveryMetrics;
  /** Records taken and not finished, above which fetching pauses. @default 2000 */
  maxInFlight?: number;
  /** Called when the slice can go on no more (fenced, or a commit failed); its owner starts it again or gives it up. */
  onFailed: (error: unknown) => void;
}

interface Work {
  record: FetchedRecord;
  fromLog: boolean;
  entry: WalEntry;
  logOffset: bigint;
  notBeforeMs: number;
}

/** A change to a key's chain, waiting for its cause to be committed. */
interface ChainChange {
  key: string;
  logOffset: bigint;
  /** undefined: the entry left the chain. */
  notBeforeMs: number | undefined;
}

/** Something the slice must write, once the record that caused it is committed. */
interface Staged {
  causeTopic: string;
  causeOffset: bigint;
  output?: SliceOutput;
  /** A copy to a retry tier, planned when written (see `waitOutput`). */
  wait?: { work: Work; notBeforeMs: number };
  chain?: ChainChange;
}

/**
 * A tier record is taken this long before its hop ends, to cover the fetch
 * (fetches wait at most 100 ms); an entry due within the shortest tier plus
 * this is held in memory rather than sent on another hop.
 */
const fetchAheadMs = 200;
/** Shortest wait of an entry parked behind its key's head. */
const parkRecheckMs = 1_000;
/**
 * Ids of entries written with an idempotency key and delivered lately, per
 * slice, so a write appended twice (retried after an unanswered call) is not
 * applied twice. Best effort: kept in memory, so a restart or a rebalance
 * between the two copies forgets it (targets still see one entry id). A
 * retry follows its first try within seconds; this covers far more.
 */
const recentlyDeliveredCapacity = 20_000;

/**
 * One slice of a namespace: partition p of its log, of every retry tier and
 * of its holds, owned by this processor. Takes records as they are fetched,
 * runs them (deliver, retry in place, move to a tier or the DLQ, or wait in
 * line behind the key's earlier entries), and commits what is done, with
 * every copy it made, in one transaction per tick: a record is committed only
 * once it and everything before it in its partition is finished.
 */
export class Slice {
  private state: "starting" | "loading" | "ready" | "closed" = "starting";
  private readonly aborted = new AbortController();
  private readonly next = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();
  private readonly trackers = new Map<string, OffsetTracker>();
  /** Chains as this slice runs them. */
  private readonly live = new KeyChains();
  /** Chains as last committed to the holds topic. */
  private readonly durable = new KeyChains();
  private staged: Staged[] = [];
  private holdsEnd = 0n;
  private readonly lanes: TimedLanes<Work>;
  private readonly waitingForRoom = new Set<string>();
  private flushing: Promise<void> | undefined;
  private readonly delivered = new RecentIds(recentlyDeliveredCapacity);

  constructor(private readonly options: SliceOptions) {
    this.lanes = new TimedLanes<Work>(
      options.namespace()?.delivery.maxConcurrentKeys ?? 64,
      (work) => this.run(work),
    );
  }

  get partition(): number {
    return this.options.partition;
  }

  /** Claims the slice, then reads from the group's committed offsets (ADR 0001, rule 2). */
  async start(): Promise<void> {
    const { io, topics } = this.options;
    await io.claim();
    const consumed = [topics.log, ...topics.retries];
    const positions = await io.positions([...consumed, topics.holds]);
    if (this.state === "closed") return;
    for (const topic of consumed) {
      const at = positions.get(topic);
      const start = at?.committed ?? at?.low ?? 0n;
      this.next.set(topic, start);
      this.committed.set(topic, start);
      this.trackers.set(topic, new OffsetTracker());
      io.seek(topic, start);
    }
    const holds = positions.get(topics.holds);
    this.next.set(topics.holds, holds?.low ?? 0n);
    this.holdsEnd = holds?.high ?? 0n;
    io.seek(topics.holds, holds?.low ?? 0n);
    this.state = "loading";
    io.resume(topics.holds);
    if (this.holdsEnd <= (holds?.low ?? 0n)) this.ready();
  }

  offer(record: FetchedRecord): OfferAnswer {
    const { topics } = this.options;
    if (this.state === "closed" || this.state === "starting") return {};
    const offset = BigInt(record.offset);
    const expected = this.next.get(record.topic);
    if (expected === undefined || offset < expected) return true;

    if (record.topic === topics.holds) {
      if (this.state === "loading") {
        const value = record.value.length === 0 ? null : record.value;
        this.live.load(record.key, value);
        this.durable.load(record.key, value);
      }
      this.next.set(record.topic, offset + 1n);
      this.reached(record.topic, offset + 1n);
      return true;
    }
    if (this.state !== "ready") return {};
    // Records taken and not finished are exactly the lanes' items, waiting or running.
    if (this.lanes.size >= (this.options.maxInFlight ?? 2_000)) {
      this.waitingForRoom.add(record.topic);
      return {};
    }
    const now = Date.now();
    const fromLog = record.topic === topics.log;
    const hopUntil = fromLog ? 0 : Number(record.headers[walHeaders.hopUntil] ?? 0);
    // The shortest tier is taken as it comes (its records wait in memory, at most that tier's
    // delay); a longer one is left unfetched until its head's hop is about to end.
    const takeAhead = record.topic === topics.retries[0] ? this.holdWindow() : fetchAheadMs;
    if (hopUntil > now + takeAhead) return { resumeAtMs: hopUntil - takeAhead };
    let entry: WalEntry;
    try {
      entry = decodeEntry(record.value);
    } catch (error) {
      // Committing past a record this processor cannot read would drop an acknowledged entry.
      this.options.logger.error(
        { err: error, topic: record.topic, partition: record.partition, offset: record.offset },
        "cannot decode a record; this partition waits until a processor that can read it runs",
      );
      return { resumeAtMs: now + 5_000 };
    }
    const ns = this.options.namespace();
    // Deleted: the runner is being stopped; look again in a while rather than never.
    if (ns === undefined) return { resumeAtMs: now + 1_000 };
    const notBeforeMs = fromLog
      ? (entry.lifecycle.dueAtMs ?? 0)
      : Number(record.headers[walHeaders.dueAt] ?? 0);
    const work: Work = {
      record,
      fromLog,
      entry,
      logOffset: fromLog ? offset : BigInt(record.headers[walHeaders.logOffset] ?? record.offset),
      notBeforeMs,
    };
    this.next.set(record.topic, offset + 1n);
    this.trackers.get(record.topic)?.track(record.offset);
    // Due soon: wait in memory. Later: run when its hop ends, which moves it on to the next tier.
    const holdHere = this.plan(ns, notBeforeMs, now).kind === "hold";
    const lane =
      ns.delivery.ordering === "strict" ? `k:${entry.key}` : `r:${record.topic}:${record.offset}`;
    this.lanes.push(lane, work, holdHere ? notBeforeMs : hopUntil);
    return true;
  }

  /** The consumer has read a partition up to `nextOffset` (transaction markers included). */
  reached(topic: string, nextOffset: bigint): void {
    if (topic !== this.options.topics.holds || this.state !== "loading") return;
    if (nextOffset >= this.holdsEnd) this.ready();
  }

  /** Commits what is finished, with the copies and holds it caused. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing;
    this.flushing = this.commitFinished().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /**
   * Starts nothing more. With `finish`, waits for running work and commits
   * it (graceful stop); without, leaves it to the next owner (revoked).
   */
  async close(finish: boolean): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    if (!finish) this.aborted.abort();
    await this.lanes.close();
    if (finish) {
      // A tick's commit may be running: let it end, then commit what finished after it began.
      await this.flush().catch(() => undefined);
      await this.flush().catch(() => undefined);
    }
  }

  private ready(): void {
    this.state = "ready";
    for (const topic of [this.options.topics.log, ...this.options.topics.retries]) {
      this.options.io.resume(topic);
    }
  }

  private async commitFinished(): Promise<void> {
    if (this.state === "starting") return;
    const offsets: SliceOffset[] = [];
    const upTo = new Map<string, bigint>();
    for (const [topic, tracker] of this.trackers) {
      const watermark = tracker.watermark;
      const committed = this.committed.get(topic) ?? 0n;
      const nextOffset = watermark === undefined ? committed : BigInt(watermark) + 1n;
      upTo.set(topic, nextOffset);
      if (nextOffset > committed) {
        offsets.push({ topic, partition: this.partition, offset: nextOffset.toString() });
      }
    }
    const covered = this.staged.filter((s) => s.causeOffset < (upTo.get(s.causeTopic) ?? 0n));
    if (offsets.length === 0 && covered.length === 0) return;

    const outputs: SliceOutput[] = [];
    const touched = new Set<string>();
    const now = Date.now();
    for (const s of covered) {
      if (s.output !== undefined) outputs.push(s.output);
      if (s.wait !== undefined) outputs.push(this.waitOutput(s.wait.work, s.wait.notBeforeMs, now));
      if (s.chain !== undefined) {
        const { key, logOffset, notBeforeMs } = s.chain;
        if (notBeforeMs === undefined) this.durable.remove(key, logOffset);
        else this.durable.put(key, { logOffset, notBeforeMs });
        touched.add(key);
      }
    }
    for (const key of touched) {
      outputs.push({
        topic: this.options.topics.holds,
        partition: this.partition,
        key,
        value: this.durable.encode(key),
        headers: {},
      });
    }
    try {
      await this.options.io.commit(outputs, offsets);
    } catch (error) {
      // Whether it committed is unknown: start over from what the group has committed.
      this.options.onFailed(error);
      throw error;
    }
    for (const o of offsets) this.committed.set(o.topic, BigInt(o.offset));
    const done = new Set(covered);
    this.staged = this.staged.filter((s) => !done.has(s));
  }

  private async run(work: Work): Promise<void> {
    if (this.aborted.signal.aborted) return;
    try {
      await this.act(work);
      this.finish(work);
    } catch (error) {
      if (!this.aborted.signal.aborted) {
        this.options.logger.error(
          {
            err: error,
            topic: work.record.topic,
            offset: work.record.offset,
            entry_id: work.entry.id,
          },
          "could not process an entry; it is redelivered when the slice restarts",
        );
        this.options.onFailed(error);
      }
    }
  }

  private finish(work: Work): void {
    this.trackers.get(work.record.topic)?.complete(work.record.offset);
    if (this.waitingForRoom.size > 0 && this.lanes.size < (this.options.maxInFlight ?? 2_000) / 2) {
      for (const topic of this.waitingForRoom) this.options.io.resume(topic);
      this.waitingForRoom.clear();
    }
  }

  private async act(work: Work): Promise<void> {
    const ns = this.options.namespace();
    if (ns === undefined) throw new Error("the namespace was deleted");
    const { entry } = work;
    const key = entry.key;
    const now = Date.now();

    // A redrive is an operator's request to deliver again: it is never taken for a repeat.
    const redriven = work.record.headers[walHeaders.redrivenFrom] !== undefined;
    if (!redriven && this.delivered.has(entry.id)) {
      this.options.metrics.attempted(ns.name, "duplicate");
      this.options.logger.debug(
        { entry_id: entry.id, topic: work.record.topic, offset: work.record.offset },
        "entry already delivered (the same write appended twice); skipped",
      );
      if (this.live.has(key, work.logOffset))
        this.changeChain(work, key, work.logOffset, undefined);
      return;
    }
    if (entry.lifecycle.expiresAtMs !== null && entry.lifecycle.expiresAtMs < now) {
      this.deadLetter(
        work,
        ErrorCode.entryExpired,
        "the entry's time to live ran out before it could be delivered",
      );
      return;
    }
    if (ns.delivery.ordering === "strict") {
      if (work.fromLog && this.live.isHeld(key)) {
        this.park(ns, work);
        return;
      }
      if (!work.fromLog && !this.live.has(key, work.logOffset)) {
        // A copy the chains do not know (written by a relaxed namespace, or redriven): it joins the line.
        this.changeChain(work, key, work.logOffset, work.notBeforeMs);
      }
      if (!work.fromLog && !this.live.isHead(key, work.logOffset)) {
        this.park(ns, work);
        return;
      }
    }
    if (work.notBeforeMs > Date.now()) {
      this.wait(ns, work, work.notBeforeMs);
      return;
    }
    await this.attempt(ns, work);
  }

  /**
   * An entry whose key has an earlier entry waiting goes behind it. It looks
   * again no sooner than `parkRecheckMs` from now, so an entry whose head is
   * overdue (not fetched yet) does not spin through the shortest tier.
   */
  private park(ns: NamespaceConfig, work: Work): void {
    const behind = this.live.behindHead(work.entry.key, work.logOffset) ?? 0;
    this.wait(ns, work, Math.max(behind, work.notBeforeMs, Date.now() + parkRecheckMs));
  }

  /**
   * Moves the entry to a retry tier, where it waits until `notBeforeMs`. The
   * tier and the hop are chosen when the copy is written (the next commit
   * after everything before the record is done), not now, so a copy held
   * back behind earlier records never overshoots its due time.
   */
  private wait(ns: NamespaceConfig, work: Work, notBeforeMs: number): void {
    if (ns.delivery.ordering === "strict") {
      this.changeChain(work, work.entry.key, work.logOffset, notBeforeMs);
    }
    this.staged.push({
      causeTopic: work.record.topic,
      causeOffset: BigInt(work.record.offset),
      wait: { work, notBeforeMs },
    });
  }

  /** The tier copy of a waiting entry, planned as it is written. */
  private waitOutput(work: Work, notBeforeMs: number, now: number): SliceOutput {
    const ns = this.options.namespace();
    const plan = ns === undefined ? { kind: "hold" as const } : this.plan(ns, notBeforeMs, now);
    // Due within the shortest tier: through it, taken when its wait ends.
    const tier = plan.kind === "hop" ? plan.tier : 1;
    const untilMs = plan.kind === "hop" ? plan.untilMs : notBeforeMs;
    const topic =
      this.options.topics.retries[Math.min(tier, this.options.topics.retries.length) - 1];
    return this.copy(work, topic as string, {
      [walHeaders.dueAt]: String(notBeforeMs),
      [walHeaders.hopUntil]: String(untilMs),
    });
  }

  private async attempt(ns: NamespaceConfig, work: Work): Promise<void> {
    const { entry } = work;
    const signal = this.aborted.signal;
    const { metrics } = this.options;
    if (work.notBeforeMs > 0)
      metrics.late(ns.name, this.waitedIn(work), Date.now() - work.notBeforeMs);
    for (;;) {
      signal.throwIfAborted();
      const latest = this.options.namespace() ?? ns;
      try {
        await this.options.deliver(
          latest,
          entry,
          { partition: this.partition, version: work.logOffset },
          work.record.headers,
        );
        metrics.attempted(latest.name, "delivered");
        if (entry.idempotencyKey !== null) this.delivered.add(entry.id);
        // Whatever the ordering now: a link left behind would block its key if strict came back.
        if (this.live.has(entry.key, work.logOffset)) {
          this.changeChain(work, entry.key, work.logOffset, undefined);
        }
        return;
      } catch (error) {
        signal.throwIfAborted();
        metrics.attempted(latest.name, "failed");
        const failure = failureOf(error);
        const now = Date.now();
        entry.attempts.push({ atMs: now, errorCode: failure.code, message: failure.message });
        const failures = entry.attempts.length;
        const outcome = afterFailure(latest.retry, entry, failures, failure, work.fromLog, now);
        this.options.logger.warn(
          {
            entry_id: entry.id,
            key: entry.key,
            partition: this.partition,
            attempt: failures,
            code: failure.code,
            outcome: outcome.kind,
          },
          `delivery failed: ${failure.message}`,
        );
        if (outcome.kind === "in-place") {
          await sleep(backoffDelayMs(latest.delivery.inPlaceRetry, failures), undefined, {
            signal,
          });
          continue;
        }
        if (outcome.kind === "dead") {
          this.deadLetter(work, outcome.reason, outcome.message);
          return;
        }
        const plan = this.plan(latest, outcome.notBeforeMs, now);
        metrics.retried(latest.name, plan.kind === "hop" ? plan.tier : 1);
        this.wait(latest, work, outcome.notBeforeMs);
        return;
      }
    }
  }

  private deadLetter(work: Work, reason: string, message: string): void {
    const { entry } = work;
    this.options.metrics.deadLettered(entry.namespace, reason);
    if (this.live.has(entry.key, work.logOffset)) {
      this.changeChain(work, entry.key, work.logOffset, undefined);
    }
    this.options.logger.error(
      {
        entry_id: entry.id,
        key: entry.key,
        partition: this.partition,
        reason,
        attempts: entry.attempts.length,
      },
      `entry sent to the dead-letter queue: ${message}`,
    );
    this.staged.push({
      causeTopic: work.record.topic,
      causeOffset: BigInt(work.record.offset),
      output: this.copy(work, this.options.topics.deadLetter, {
        [walHeaders.deadReason]: reason,
        [walHeaders.deadMessage]: message,
        [walHeaders.deadAt]: String(Date.now()),
      }),
    });
  }

  private plan(ns: NamespaceConfig, notBeforeMs: number, now: number) {
    return planWait(ns.retry.tiers, notBeforeMs, now, this.holdWindow(ns));
  }

  /** Entries due within this are held in memory: the shortest tier, plus the fetch ahead. */
  private holdWindow(ns = this.options.namespace()): number {
    return (ns?.retry.tiers[0] ?? 0) + fetchAheadMs;
  }

  /** Where an entry waited before it fell due: the log, or a retry tier. */
  private waitedIn(work: Work): string {
    if (work.fromLog) return "log";
    return `tier ${this.options.topics.retries.indexOf(work.record.topic) + 1}`;
  }

  private changeChain(
    work: Work,
    key: string,
    logOffset: bigint,
    notBeforeMs: number | undefined,
  ): void {
    if (notBeforeMs === undefined) this.live.remove(key, logOffset);
    else this.live.put(key, { logOffset, notBeforeMs });
    this.staged.push({
      causeTopic: work.record.topic,
      causeOffset: BigInt(work.record.offset),
      chain: { key, logOffset, notBeforeMs },
    });
  }

  /** A copy of the entry (attempts so far included) for another topic of the slice. */
  private copy(work: Work, topic: string, headers: Record<string, string>): SliceOutput {
    const { topic: from, partition, offset } = work.record;
    return {
      topic,
      partition: this.partition,
      key: work.entry.key,
      value: encodeEntry(work.entry),
      headers: {
        ...work.record.headers,
        [walHeaders.entryId]: work.entry.id,
        [walHeaders.attempt]: String(work.entry.attempts.length),
        [walHeaders.logOffset]: work.logOffset.toString(),
        [walHeaders.copiedFrom]: `${from}:${partition}:${offset}`,
        ...headers,
      },
    };
  }
}

function failureOf(error: unknown): Failure {
  const asked = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return {
    code: isWalError(error) ? error.code : ErrorCode.targetTransient,
    message: describeError(error),
    ...(typeof asked === "number" ? { retryAfterMs: asked } : {}),
  };
}
