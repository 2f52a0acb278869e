import type { Admin, Kafka } from "kafkajs";
import {
  type FetchedRecord,
  isFencedError,
  SlicedConsumer,
  SliceProducer,
} from "../adapters/kafka/index.ts";
import {
  ErrorCode,
  isWalError,
  type NamespaceConfig,
  topicNames,
  type WalEntry,
} from "../core/index.ts";
import type { DeliveryMetrics, Logger } from "../observability/index.ts";
import { Slice, type SliceIO, type SliceTopics } from "./slice.ts";

export interface NamespaceRunnerOptions {
  kafka: Kafka;
  name: string;
  namespace: () => NamespaceConfig | undefined;
  deliver: (
    ns: NamespaceConfig,
    entry: WalEntry,
    position: { partition: number; version: bigint },
    headers: Record<string, string>,
  ) => Promise<void>;
  logger: Logger;
  metrics: DeliveryMetrics;
  sessionTimeoutMs: number;
  /** How often finished work is committed. @default 100 */
  commitIntervalMs?: number;
  onCrash: (error: unknown) => void;
}

/** The Kafka side of one slice: its transactional producer, the group's offsets, the shared consumer. */
class KafkaSliceIO implements SliceIO {
  private readonly producer: SliceProducer;

  constructor(
    kafka: Kafka,
    private readonly admin: Admin,
    private readonly consumer: SlicedConsumer,
    private readonly groupId: string,
    private readonly partition: number,
  ) {
    this.producer = new SliceProducer(kafka, `${groupId}.slice-${partition}`, groupId);
  }

  claim(): Promise<void> {
    return this.producer.claim();
  }

  commit: SliceIO["commit"] = (outputs, offsets) => this.producer.commit(outputs, offsets);

  release(): Promise<void> {
    return this.producer.close();
  }

  async positions(topics: string[]) {
    const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics });
    const result = new Map<string, { committed: bigint | undefined; low: bigint; high: bigint }>();
    for (const topic of topics) {
      const bounds = (await this.admin.fetchTopicOffsets(topic)).find(
        (p) => p.partition === this.partition,
      );
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
  private readonly topics: SliceTopics;
  private ticker: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly tierCount: number;

  constructor(private readonly options: NamespaceRunnerOptions) {
    const ns = options.namespace();
    this.tierCount = ns?.retry.tiers.length ?? 0;
    const name = options.name;
    this.topics = {
      log: topicNames.log(name),
      retries: Array.from({ length: this.tierCount }, (_, i) => topicNames.retry(name, i + 1)),
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

  /** Stops fetching, finishes and commits running work, leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    await this.consumer.stop();
    const slices = [...this.slices.values()];
    this.slices.clear();
    await Promise.all(slices.map((slice) => slice.close(true)));
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  private closeAll(finish: boolean): void {
    for (const slice of this.slices.values()) void slice.close(finish);
    this.slices.clear();
  }

  private open(partition: number): void {
    if (this.stopped) return;
    const groupId = topicNames.processorGroup(this.options.name);
    const slice: Slice = new Slice({
      partition,
      topics: this.topics,
      namespace: this.options.namespace,
      io: new KafkaSliceIO(this.options.kafka, this.admin, this.consumer, groupId, partition),
      deliver: this.options.deliver,
      logger: this.options.logger.child({ namespace: this.options.name, slice: partition }),
      metrics: this.options.metrics,
      onFailed: (error) => this.failed(slice, error),
    });
    this.slices.set(partition, slice);
    slice.start().catch((error: unknown) => this.failed(slice, error));
  }

  private failed(slice: Slice, error: unknown): void {
    if (this.slices.get(slice.partition) !== slice) return;
    this.slices.delete(slice.partition);
    void slice.close(false);
    const fenced =
      isFencedError(error) || (isWalError(error) && error.code === ErrorCode.producerFenced);
    if (fenced) {
      this.options.logger.warn(
        { namespace: this.options.name, slice: slice.partition },
        "another processor took over this slice; leaving it to that processor",
      );
      return;
    }
    this.options.logger.warn(
      { err: error, namespace: this.options.name, slice: slice.partition },
      "slice failed; starting it again from the committed offsets",
    );
    // Only while the group still says the slice is ours: claiming it otherwise would fence its owner.
    setTimeout(() => {
      if (this.owned.has(slice.partition) && !this.slices.has(slice.partition)) {
        this.open(slice.partition);
      }
    }, 500).unref();
  }
}
