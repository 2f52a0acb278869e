import type { Producer, ProducerBatch } from "kafkajs";
import { describeError, ErrorCode, WalError } from "../../core/index.ts";

/**
 * An idempotent producer that is thrown away after any failed send.
 *
 * A send that fails after its retries may still have been written. Reusing
 * that producer would reuse the failed batch's sequence numbers, and the
 * broker would take the next, different records for a duplicate and drop
 * them while acknowledging: silent loss. A fresh producer gets a new
 * producer id, so its sequences cannot collide. This is also what lets
 * retries be bounded (a send to a deleted topic fails instead of hanging).
 *
 * Sends go out one at a time: when a request fails, kafkajs rolls its
 * sequence numbers back before retrying, and a concurrent send taking that
 * gap would reuse them, with the same silent loss as a result.
 */
export class RecyclingProducer {
  private connecting: Promise<Producer> | undefined;
  private readonly retired = new Set<Promise<void>>();
  private previousSend: Promise<unknown> = Promise.resolve();

  constructor(private readonly create: () => Producer) {}

  /** Connects now (for a start-up check); sends connect on demand anyway. */
  async connect(): Promise<void> {
    await this.connected();
  }

  /**
   * Sends with acks=all. Rejects with WAL_LOG_UNAVAILABLE when no producer
   * could connect (nothing was sent); with the send's own error otherwise,
   * when the outcome is unknown and the producer has been replaced.
   */
  sendBatch(batch: Omit<ProducerBatch, "acks">): Promise<void> {
    const send = this.previousSend.then(() => this.sendNow(batch));
    this.previousSend = send.catch(() => undefined);
    return send;
  }

  private async sendNow(batch: Omit<ProducerBatch, "acks">): Promise<void> {
    const connecting = this.connected();
    const producer = await connecting;
    try {
      await producer.sendBatch({ ...batch, acks: -1 });
    } catch (error) {
      this.forget(connecting);
      this.retire(producer);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    const producer = await connecting?.catch(() => undefined);
    if (producer !== undefined) this.retire(producer);
    await Promise.all(this.retired);
  }

  private connected(): Promise<Producer> {
    if (this.connecting === undefined) {
      const producer = this.create();
      const connecting: Promise<Producer> = producer.connect().then(
        () => producer,
        (cause: unknown) => {
          this.forget(connecting);
          throw new WalError(
            ErrorCode.logUnavailable,
            `cannot connect to Kafka (${describeError(cause)}); nothing was written. Retry later`,
            { canRetry: true, cause },
          );
        },
      );
      this.connecting = connecting;
    }
    return this.connecting;
  }

  /** Drops a producer from use unless a newer one already replaced it. */
  private forget(connecting: Promise<Producer>): void {
    if (this.connecting === connecting) this.connecting = undefined;
  }

  private retire(producer: Producer): void {
    const closing: Promise<void> = producer
      .disconnect()
      .catch(() => undefined)
      .finally(() => this.retired.delete(closing));
    this.retired.add(closing);
  }
}
