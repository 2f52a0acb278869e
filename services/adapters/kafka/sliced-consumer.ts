import type { Consumer, Kafka } from "kafkajs";
import type { Logger } from "../../observability/index.ts";
import { coPartitionedAssigner } from "./co-partitioned-assigner.ts";
import { headersOf } from "./headers.ts";

/** A record as the processor sees it, free of kafkajs types. */
export interface FetchedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A record was taken (or already had been), or its partition waits until `resumeAtMs` or `resume`. */
export type OfferAnswer = true | { resumeAtMs?: number };

/** What the sliced consumer drives. */
export interface SliceListener {
  /** Deliveries of every slice must stop: the group is rebalancing or the consumer stops. */
  revokedAll(): void;
  /** This member owns these slices (partition indexes) in a new generation. */
  assigned(slices: number[]): void;
  offer(record: FetchedRecord): OfferAnswer;
  /** Everything of a partition before `nextOffset` has been read (markers included). */
  reached(topic: string, partition: number, nextOffset: bigint): void;
}

export interface SlicedConsumerOptions {
  groupId: string;
  /** Every topic of the namespace; the first is the log, whose partitions name the slices. */
  topics: string[];
  sessionTimeoutMs: number;
  /**
   * Longest time a fetch waits for new records. Short, so a partition that
   * resumes (its next record fell due) is fetched again promptly.
   */
  maxWaitTimeMs: number;
  onCrash: (error: unknown) => void;
}

/**
 * One consumer group over all of a namespace's topics, assigned by slice
 * (co-partitioned). It only fetches: each record is offered to the listener,
 * which takes it (its fetch position moves on) or refuses it, and then the
 * partition is paused until the listener's time or call. Nothing waits inside
 * a batch, so a partition that waits never holds up the others, and nothing
 * is committed here: slices commit through their transactions.
 *
 * Pause is only a way to stop fetching what is not wanted yet; correctness
 * does not rest on it. kafkajs keeps paused partitions paused across
 * rebalances, so every new generation starts with all resumed, and a record
 * fetched despite a pause is simply offered again.
 */
export class SlicedConsumer {
  private readonly consumer: Consumer;
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    kafka: Kafka,
    private readonly options: SlicedConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(options.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: options.maxWaitTimeMs,
      // A paused tier partition is fetched again from its first refused record each time it
      // resumes: small fetches keep that re-read (and the decoding that blocks other partitions) short.
      maxBytesPerPartition: 128 * 1024,
      allowAutoTopicCreation: false,
      partitionAssigners: [coPartitionedAssigner],
    });
  }

  async start(listener: SliceListener): Promise<void> {
    const { consumer } = this;
    const [logTopic] = this.options.topics;
    consumer.on(consumer.events.REBALANCING, () => listener.revokedAll());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.resumeAll();
      listener.assigned(payload.memberAssignment[logTopic as string] ?? []);
    });
    // A batch of only transaction markers or aborted records reaches no handler, but ends a
    // batch; one with records reports its end from the handler, and only when all were taken.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0) return;
      listener.reached(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      listener.revokedAll();
      if (!payload.restart) this.options.onCrash(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) return;
          const answer = listener.offer({
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key?.toString() ?? "",
            value: message.value ?? Buffer.alloc(0),
            headers: headersOf(message.headers),
          });
          if (answer !== true) {
            this.pause(batch.topic, batch.partition, answer.resumeAtMs);
            return;
          }
          resolveOffset(message.offset);
        }
        listener.reached(batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
  }

  /** Moves the fetch position of a partition this member owns. */
  seek(topic: string, partition: number, offset: bigint): void {
    this.consumer.seek({ topic, partition, offset: offset.toString() });
  }

  resume(topic: string, partition: number): void {
    const id = `${topic}|${partition}`;
    clearTimeout(this.resumeTimers.get(id));
    this.resumeTimers.delete(id);
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  /** Stops fetching; the group forgets this member when `disconnect` follows. */
  async stop(): Promise<void> {
    this.clearTimers();
    await this.consumer.stop();
  }

  async disconnect(): Promise<void> {
    this.clearTimers();
    await this.consumer.disconnect();
  }

  private pause(topic: string, partition: number, resumeAtMs: number | undefined): void {
    const id = `${topic}|${partition}`;
    clearTimeout(this.resumeTimers.get(id));
    this.consumer.pause([{ topic, partitions: [partition] }]);
    if (resumeAtMs === undefined) return;
    this.resumeTimers.set(
      id,
      setTimeout(() => this.resume(topic, partition), Math.max(0, resumeAtMs - Date.now())),
    );
  }

  private resumeAll(): void {
    this.clearTimers();
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
    this.logger.debug({ group: this.options.groupId }, "new generation: every partition resumed");
  }

  private clearTimers(): void {
    for (const timer of this.resumeTimers.values()) clearTimeout(timer);
    this.resumeTimers.clear();
  }
}
