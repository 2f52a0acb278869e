import { type Delivery, type Target, TargetError, walHeaders } from "../../core/index.ts";
import type { RecyclingProducer } from "./recycling-producer.ts";

/**
 * Delivers entries as records of another Kafka topic. The record key is the
 * entry's resource (or key) and its headers carry the entry id and version:
 * the topic is at-least-once, and its consumers drop an id+version they have
 * already seen. A DELETE becomes a tombstone (null value) so compacted
 * topics forget the key.
 */
export class KafkaTopicTarget implements Target {
  readonly kind = "kafka-topic";

  constructor(
    private readonly producer: RecyclingProducer,
    private readonly topic: string,
  ) {}

  async apply({ entry, version, traceHeaders }: Delivery): Promise<void> {
    try {
      const message = {
        key: entry.target.resource ?? entry.key,
        value: entry.target.operation === "DELETE" ? null : entry.payload,
        headers: {
          ...traceHeaders,
          [walHeaders.entryId]: entry.id,
          "wal-version": version.toString(),
        },
      };
      await this.producer.sendBatch({
        topicMessages: [{ topic: this.topic, messages: [message] }],
      });
    } catch (cause) {
      const retriable =
        typeof cause !== "object" ||
        cause === null ||
        (cause as { retriable?: unknown }).retriable !== false;
      throw new TargetError(
        retriable ? "transient" : "permanent",
        `Kafka topic '${this.topic}' refused the entry: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  async close(): Promise<void> {}
}
