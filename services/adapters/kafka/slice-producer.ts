import { setTimeout as sleep } from "node:timers/promises";
import type { Kafka, Producer, Transaction } from "kafkajs";
import { ErrorCode, WalError } from "../../core/index.ts";

/** A record a slice writes: a copy to a retry tier or the DLQ, or a holds update. */
export interface SliceOutput {
  topic: string;
  partition: number;
  key: string;
  /** null: a tombstone (holds). */
  value: Buffer | null;
  headers: Record<string, string>;
}

/** The next offset to consume of one partition of the slice, committed for the group. */
export interface SliceOffset {
  topic: string;
  partition: number;
  offset: string;
}

function errorType(error: unknown): string | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === "string" ? type : undefined;
}

/** Kafka's answer when a newer producer with the same transactional id took over. */
export function isFencedError(error: unknown): boolean {
  const type = errorType(error);
  return type === "INVALID_PRODUCER_EPOCH" || type === "PRODUCER_FENCED";
}

/**
 * The transactional producer of one slice (one partition index of every
 * topic of a namespace). Its id is the slice's, stable across processes, so
 * whoever claims the slice fences every earlier owner and aborts what it left
 * open (ADR 0001). Records and the group's offsets commit together or not at
 * all. Calls are serialized; after any failed step the producer is dropped
 * and the caller must claim again before committing.
 */
export class SliceProducer {
  private producer: Producer | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalId: string,
    private readonly groupId: string,
  ) {}

  /** Fences earlier owners of the slice and aborts their open transaction. */
  claim(): Promise<void> {
    return this.serialized(async () => {
      await this.drop();
      const producer = this.kafka.producer({
        transactionalId: this.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 15_000,
        // kafkajs waits 300 ms after CONCURRENT_TRANSACTIONS by default; back-to-back
        // transactions hit it often, so retry sooner (ADR 0001, measurement e).
        retry: { initialRetryTime: 10, maxRetryTime: 1_000, retries: 8 },
      });
      this.producer = producer;
      try {
        await producer.connect();
        const empty = await producer.transaction();
        await empty.abort();
      } catch (error) {
        await this.drop();
        throw this.translate(error);
      }
    });
  }

  /** Writes the records and commits the offsets in one transaction. */
  commit(outputs: SliceOutput[], offsets: SliceOffset[]): Promise<void> {
    return this.serialized(async () => {
      const producer = this.producer;
      if (producer === undefined) {
        throw new WalError(ErrorCode.internal, "slice producer used before it claimed the slice");
      }
      let transaction: Transaction | undefined;
      try {
        transaction = await producer.transaction();
        const byTopic = byTopicOf(outputs);
        if (byTopic.size > 0) {
          await transaction.sendBatch({
            topicMessages: [...byTopic].map(([topic, records]) => ({
              topic,
              messages: records.map((r) => ({
                key: r.key,
                value: r.value,
                partition: r.partition,
                headers: r.headers,
              })),
            })),
          });
        }
        if (offsets.length > 0) await this.sendOffsets(transaction, offsets);
        await transaction.commit();
      } catch (error) {
        await this.drop();
        throw this.translate(error);
      }
    });
  }

  async close(): Promise<void> {
    await this.serialized(() => this.drop());
  }

  private async sendOffsets(transaction: Transaction, offsets: SliceOffset[]): Promise<void> {
    const byTopic = byTopicOf(offsets);
    const request = {
      consumerGroupId: this.groupId,
      topics: [...byTopic].map(([topic, partitions]) => ({
        topic,
        partitions: partitions.map(({ partition, offset }) => ({ partition, offset })),
      })),
    };
    // kafkajs does not retry AddOffsetsToTxn when the coordinator is still finishing the
    // previous transaction (CONCURRENT_TRANSACTIONS); it clears within milliseconds.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await transaction.sendOffsets(request);
        return;
      } catch (error) {
        if (errorType(error) !== "CONCURRENT_TRANSACTIONS" || attempt >= 20) throw error;
        await sleep(5 * attempt);
      }
    }
  }

  private translate(error: unknown): Error {
    if (isFencedError(error)) {
      return new WalError(
        ErrorCode.producerFenced,
        `another processor took over slice ${this.transactionalId}; this one stops delivering it`,
        { cause: error },
      );
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  private async drop(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Groups items by their topic, keeping their order within each. */
function byTopicOf<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.topic);
    if (group === undefined) groups.set(item.topic, [item]);
    else group.push(item);
  }
  return groups;
}
