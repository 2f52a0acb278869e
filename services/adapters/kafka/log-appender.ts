import {
  ErrorCode,
  isWalError,
  type LogAppender,
  type LogRecord,
  WalError,
} from "../../core/index.ts";
import type { RecyclingProducer } from "./recycling-producer.ts";

interface PendingAppend {
  record: LogRecord;
  bytes: number;
  handedOver: boolean;
  settled: boolean;
  timer: NodeJS.Timeout;
  resolve: () => void;
  reject: (error: WalError) => void;
}

export interface KafkaLogAppenderOptions {
  /** Upper bound of one produce request's record bytes. @default 900000 */
  maxBatchBytes?: number;
}

/**
 * Appends through one idempotent producer with acks=all (replaced after any
 * failed send, see RecyclingProducer).
 *
 * Records that arrive while a produce request is in flight wait and go out
 * together in the next one ("natural batching": no linger timer, so an idle
 * gateway adds no latency, a busy one sends fewer, larger requests). Keeping
 * a single request in flight also keeps kafkajs's idempotent sequence numbers
 * in step, which concurrent sends to one partition can break.
 *
 * What a caller learns depends on where its record is: still queued here
 * when its deadline passes, or refused because no producer could connect,
 * means nothing was written (WAL_LOG_UNAVAILABLE); handed to the producer
 * means it may or may not be in the log (WAL_LOG_OUTCOME_UNKNOWN).
 */
export class KafkaLogAppender implements LogAppender {
  private queue: PendingAppend[] = [];
  private inFlightSince: number | undefined;
  private drained: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly producer: RecyclingProducer,
    options: KafkaLogAppenderOptions = {},
  ) {
    this.maxBatchBytes = options.maxBatchBytes ?? 900_000;
  }

  append(record: LogRecord, timeoutMs: number): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new WalError(
          ErrorCode.shuttingDown,
          "the gateway is shutting down; retry against another gateway",
          {
            canRetry: true,
          },
        ),
      );
    }
    if (this.inFlightSince !== undefined && Date.now() - this.inFlightSince > timeoutMs) {
      return Promise.reject(
        this.unavailable(`Kafka has not acknowledged a write for over ${timeoutMs} ms`),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: PendingAppend = {
        record,
        bytes: recordBytes(record),
        handedOver: false,
        settled: false,
        resolve,
        reject,
        timer: setTimeout(() => this.expire(pending, timeoutMs), timeoutMs),
      };
      this.queue.push(pending);
      this.sendNext();
    });
  }

  /** Stops taking appends and waits for every handed-over record to settle. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.inFlightSince !== undefined) await this.drained;
  }

  private expire(pending: PendingAppend, timeoutMs: number): void {
    if (pending.settled) return;
    pending.settled = true;
    if (pending.handedOver) {
      pending.reject(
        new WalError(
          ErrorCode.logOutcomeUnknown,
          `Kafka did not acknowledge within ${timeoutMs} ms after the entry was sent; it may or may not be in the log. Retry with the same idempotency_key`,
          { canRetry: true },
        ),
      );
    } else {
      this.queue = this.queue.filter((p) => p !== pending);
      pending.reject(this.unavailable(`Kafka did not take the entry within ${timeoutMs} ms`));
    }
  }

  private unavailable(reason: string, cause?: unknown): WalError {
    return new WalError(ErrorCode.logUnavailable, `${reason}; nothing was written. Retry later`, {
      canRetry: true,
      cause,
    });
  }

  private takeBatch(): PendingAppend[] {
    const batch: PendingAppend[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as PendingAppend;
      if (batch.length > 0 && bytes + next.bytes > this.maxBatchBytes) break;
      this.queue.shift();
      batch.push(next);
      bytes += next.bytes;
    }
    return batch;
  }

  private sendNext(): void {
    if (this.inFlightSince !== undefined || this.queue.length === 0) return;
    const batch = this.takeBatch();
    for (const pending of batch) pending.handedOver = true;
    this.inFlightSince = Date.now();

    const byTopic = new Map<
      string,
      { key: string; value: Buffer; headers: Record<string, string> }[]
    >();
    for (const { record } of batch) {
      const messages = byTopic.get(record.topic) ?? [];
      messages.push({ key: record.key, value: record.value, headers: record.headers });
      byTopic.set(record.topic, messages);
    }

    this.drained = this.producer
      .sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      })
      .then(
        () => {
          for (const pending of batch) this.settle(pending, undefined);
        },
        (cause: unknown) => {
          const error = isWalError(cause)
            ? cause
            : new WalError(
                ErrorCode.logOutcomeUnknown,
                `Kafka failed the write after it was sent (${cause instanceof Error ? cause.message : String(cause)}); it may or may not be in the log. Retry with the same idempotency_key`,
                { canRetry: true, cause },
              );
          for (const pending of batch) this.settle(pending, error);
        },
      )
      .finally(() => {
        this.inFlightSince = undefined;
        this.sendNext();
      });
  }

  private settle(pending: PendingAppend, error: WalError | undefined): void {
    clearTimeout(pending.timer);
    if (pending.settled) return;
    pending.settled = true;
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }
}

/** Bytes a record takes in a produce request: key, value, headers and per-record framing. */
function recordBytes(record: LogRecord): number {
  let bytes = Buffer.byteLength(record.key) + record.value.length + 32;
  for (const [name, value] of Object.entries(record.headers)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 8;
  }
  return bytes;
}
