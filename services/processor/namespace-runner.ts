import type { Admin, Kafka } from "kafkajs";
import {
  type FetchedRecord,
  isFencedError,
  SlicedConsumer,
  SliceProducer,
} from "../adapters/kafka/index.ts";
import { ErrorCode, isWalError, type NamespaceConfig, topicNames } from "../core/index.ts";
import type { DeliveryMetrics, Logger } from "../observability/index.ts";
import { type Deliver, Slice, type SliceIO, type SliceTopics } from "./slice.ts";

export interface NamespaceRunnerOptions {
  kafka: Kafka;
  name: string;
  namespace: () => NamespaceConfig | undefined;
  deliver: Deliver;
  logger: Logger;
  metrics: DeliveryMetrics;
  sessionTimeoutMs: number;
  /** How often finished work is committed. @default 100 */
  commitIntervalMs?: number;
  onCrash: (error: unknown) => void;
}

/**
 * The Kafka side of one slice: the group's offsets, the shared consumer, and
 * the partition's transactional producer, which outlives the slice: every
 * incarnation of a slice in this runner claims through the same producer, so
 * its calls queue one behind the other and a late claim of an old incarnation
 * cannot fence the new one.
 */
class KafkaSliceIO implements SliceIO {
  constructor(
    private readonly producer: SliceProducer,
    private readonly admin: Admin,
    private readonly consumer: SlicedConsumer,
    private readonly groupId: string,
    private readonly partition: number,
  ) {}

  claim(): Promise<void> {
    return this.producer.claim();
  }

  commit: SliceIO["commit"] = (outputs, offsets) => this.producer.commit(outputs, offsets);

  async positions(topics: string[]) {
    const [committed, ...ends] = await Promise.all([
      this.admin.fetchOffsets({ groupId: this.groupId, topics }),
      ...topics.map((topic) => this.admin.fetchTopicOffsets(topic)),
    ]);
    const result = new Map<string, { committed: bigint | undefined; low: bigint; high: bigint }>();
    for (const [i, topic] of topics.entries()) {
      const bounds = ends[i]?.find((p) => p.partition === this.partition);
      const offset = committed
        .find((t) => t.topic === topic)
        ?.partitions.find((p) => p.partition === this.partition)?.offset;
      result.set(topic, {
        committed: offset === undefined || BigInt(offset) < 0n ? undefined : BigInt(offset),
        low: BigInt(bounds?.low ?? "0"),
        high: BigInt(bounds?.high ?? "0"),
      });
    }
    return result;
  }

  seek(topic: string, offset: bigint): void {
    this.consumer.seek(topic, this.partition, offset);
  }

  resume(topic: string): void {
    this.consumer.resume(topic, this.partition);
  }
}

/**
 * Runs one namespace in this processor: a sliced consumer over the log, its
 * retry tiers and its holds, and a Slice per partition index the group gives
 * this member. A slice that fails (a commit of unknown outcome, an error) is
 * started again from the group's committed offsets; one fenced by another
 * processor is left to it.
 */
export class NamespaceRunner {
  private readonly consumer: SlicedConsumer;
  private readonly admin: Admin;
  private readonly slices = new Map<number, Slice>();
  /** Slices the group gave this member in its current generation. */
  private owned = new Set<number>();
  /** Slices closing, by partition: a new incarnation starts once the old one has stopped. */
  private readonly closing = new Map<number, Promise<void>>();
  private readonly producers = new Map<number, SliceProducer>();
  private readonly topics: SliceTopics;
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The retry tiers the runner was started with; other tiers need a new runner. */
  readonly tiers: readonly number[];

  constructor(private readonly options: NamespaceRunnerOptions) {
    this.tiers = options.namespace()?.retry.tiers ?? [];
    const tierCount = this.tiers.length;
    const name = options.name;
    this.topics = {
      log: topicNames.log(name),
      retries: Array.from({ length: tierCount }, (_, i) => topicNames.retry(name, i + 1)),
      deadLetter: topicNames.deadLetter(name),
      holds: topicNames.holds(name),
    };
    this.admin = options.kafka.admin();
    this.consumer = new SlicedConsumer(
      options.kafka,
      {
        groupId: topicNames.processorGroup(name),
        topics: [this.topics.log, ...this.topics.retries, this.topics.holds],
        sessionTimeoutMs: options.sessionTimeoutMs,
        maxWaitTimeMs: 100,
        onCrash: options.onCrash,
      },
      options.logger,
    );
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.start({
      revokedAll: () => {
        this.owned = new Set();
        this.closeAll(false);
      },
      assigned: (slices) => {
        this.closeAll(false);
        this.owned = new Set(slices);
        for (const partition of slices) this.open(partition);
      },
      offer: (record: FetchedRecord) => this.slices.get(record.partition)?.offer(record) ?? {},
      reached: (topic, partition, nextOffset) =>
        this.slices.get(partition)?.reached(topic, nextOffset),
    });
    this.ticker = setInterval(() => {
      for (const slice of this.slices.values()) void slice.flush().catch(() => undefined);
    }, this.options.commitIntervalMs ?? 100);
  }

  /**
   * Finishes and commits running work while still a member of the group
   * (so nobody else takes the slices meanwhile), then leaves it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const slices = [...this.slices.values()];
    this.slices.clear();
    await Promise.all(slices.map((slice) => slice.close(true)));
    await Promise.all(this.closing.values());
    clearInterval(this.ticker);
    await this.consumer.stop();
    await this.consumer.disconnect();
    await Promise.all([...this.producers.values()].map((producer) => producer.close()));
    await this.admin.disconnect();
  }

  private closeAll(finish: boolean): void {
    for (const slice of this.slices.values()) this.close(slice, finish);
    this.slices.clear();
  }

  private close(slice: Slice, finish: boolean): void {
    const closed = slice.close(finish).catch(() => undefined);
    const previous = this.closing.get(slice.partition) ?? Promise.resolve();
    const done = previous.then(() => closed);
    this.closing.set(slice.partition, done);
    void done.then(() => {
      if (this.closing.get(slice.partition) === done) this.closing.delete(slice.partition);
    });
  }

  private producerOf(partition: number): SliceProducer {
    let producer = this.producers.get(partition);
    if (producer === undefined) {
      const groupId = topicNames.processorGroup(this.options.name);
      producer = new SliceProducer(this.options.kafka, `${groupId}.slice-${partition}`, groupId);
      this.producers.set(partition, producer);
    }
    return producer;
  }

  private open(partition: number): void {
    if (this.stopped) return;
    const groupId = topicNames.processorGroup(this.options.name);
    const slice: Slice = new Slice({
      partition,
      topics: this.topics,
      namespace: this.options.namespace,
      io: new KafkaSliceIO(
        this.producerOf(partition),
        this.admin,
        this.consumer,
        groupId,
        partition,
      ),
      deliver: this.options.deliver,
      logger: this.options.logger.child({ namespace: this.options.name, slice: partition }),
      metrics: this.options.metrics,
      onFailed: (error) => this.failed(slice, error),
    });
    this.slices.set(partition, slice);
    // Not before the previous incarnation has stopped: its deliveries in flight would race ours.
    const previous = this.closing.get(partition) ?? Promise.resolve();
    previous.then(() => slice.start()).catch((error: unknown) => this.failed(slice, error));
  }

  private failed(slice: Slice, error: unknown): void {
    if (this.slices.get(slice.partition) !== slice) return;
    this.slices.delete(slice.partition);
    this.close(slice, false);
    const fenced =
      isFencedError(error) || (isWalError(error) && error.code === ErrorCode.producerFenced);
    // Fenced: another processor claimed the slice, or the broker aborted a transaction that ran
    // too long. Claim again only if the group still gives it to us a session later: a member
    // that lost it has rejoined by then (and learnt so), one that did not is its owner.
    const retryInMs = fenced ? this.options.sessionTimeoutMs + 1_000 : 500;
    this.options.logger.warn(
      { err: error, namespace: this.options.name, slice: slice.partition, retry_in_ms: retryInMs },
      fenced
        ? "this slice's producer was fenced; claiming it again later only if the group still assigns it here"
        : "slice failed; starting it again from the committed offsets",
    );
    setTimeout(() => {
      if (this.owned.has(slice.partition) && !this.slices.has(slice.partition)) {
        this.open(slice.partition);
      }
    }, retryInMs).unref();
  }
}
