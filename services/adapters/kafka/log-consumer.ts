import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { OffsetTracker } from "../../core/index.ts";
import type { Logger } from "../../observability/index.ts";

/** A record as the processor sees it, free of kafkajs types. */
export interface FetchedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface PartitionWork {
  /** Aborted when the partition may be revoked or the consumer stops: start nothing new. */
  signal: AbortSignal;
  /** Marks a record done; the committed position only moves over contiguous done records. */
  complete(offset: string): void;
}

export type BatchHandler = (records: FetchedRecord[], work: PartitionWork) => Promise<void>;

export interface LogConsumerOptions {
  groupId: string;
  topic: string;
  /** Partitions handled at once by this consumer. @default 4 */
  partitionsConsumedConcurrently?: number;
  /** How long the group waits for a silent member before reassigning its partitions. @default 30000 */
  sessionTimeoutMs?: number;
  /** How often progress is committed and liveness checked while a batch runs. @default 1000 */
  commitIntervalMs?: number;
  /** Called when the consumer has stopped for good (kafkajs gave up restarting it). */
  onCrash: (error: unknown) => void;
}

function headersOf(
  raw: EachBatchPayload["batch"]["messages"][number]["headers"],
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  return headers;
}

/**
 * Consumes one topic in a consumer group and hands each fetched batch to the
 * handler. Commits are driven by completion, never by fetch: the committed
 * offset is one past the highest record below which every fetched record is
 * done, so a crash or rebalance redelivers unfinished records and skips none.
 */
export class KafkaLogConsumer {
  private readonly consumer: Consumer;
  private readonly stopping = new AbortController();
  /**
   * Aborted as soon as this member may have lost its partitions (a heartbeat
   * failed: the group is rebalancing or forgot us), so no batch goes on
   * delivering what another member may already own; replaced on rejoin.
   */
  private membership = new AbortController();

  constructor(
    kafka: Kafka,
    private readonly options: LogConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      allowAutoTopicCreation: false,
    });
  }

  async start(handler: BatchHandler): Promise<void> {
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.membership = new AbortController();
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.options.onCrash(payload.error);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: this.options.commitIntervalMs ?? 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
      eachBatch: (payload) => this.runBatch(payload, handler),
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer.disconnect();
  }

  private async runBatch(payload: EachBatchPayload, handler: BatchHandler): Promise<void> {
    const {
      batch,
      resolveOffset,
      heartbeat,
      commitOffsetsIfNecessary,
      uncommittedOffsets,
      isRunning,
    } = payload;
    if (batch.messages.length === 0) return;

    const tracker = new OffsetTracker();
    for (const message of batch.messages) tracker.track(message.offset);
    const membership = this.membership;
    const signal = AbortSignal.any([membership.signal, this.stopping.signal]);

    const watchdog = setInterval(() => {
      if (!isRunning()) membership.abort();
      heartbeat()
        .then(() => commitOffsetsIfNecessary())
        .catch((error: unknown) => {
          membership.abort();
          this.logger.warn(
            { err: error, partition: batch.partition },
            "heartbeat or commit failed: stopping this generation's deliveries; unfinished entries are redelivered after the rebalance",
          );
        });
    }, this.options.commitIntervalMs ?? 1_000);

    const records: FetchedRecord[] = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key?.toString() ?? "",
      value: message.value ?? Buffer.alloc(0),
      headers: headersOf(message.headers),
    }));

    try {
      await handler(records, {
        signal,
        complete: (offset) => {
          const watermark = tracker.complete(offset);
          if (watermark !== undefined) resolveOffset(watermark);
        },
      });
      if (signal.aborted) {
        // Stopping or losing the partition: commit everything finished now rather than at the
        // next interval, so the next owner redelivers only what was really unfinished.
        await commitOffsetsIfNecessary(uncommittedOffsets()).catch((error: unknown) =>
          this.logger.warn(
            { err: error, partition: batch.partition },
            "could not commit finished work while stopping; the next owner redelivers it",
          ),
        );
      } else {
        await commitOffsetsIfNecessary();
      }
    } finally {
      clearInterval(watchdog);
    }
  }
}
