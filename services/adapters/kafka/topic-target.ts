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

  async apply({ entry, partition, version, traceHeaders }: Delivery): Promise<void> {
    try {
      const message = {
        key: entry.target.resource ?? entry.key,
        value: entry.target.operation === "DELETE" ? null : entry.payload,
        headers: {
          ...traceHeaders,
          [walHeaders.entryId]: entry.id,
          "wal-partition": String(partition),
          "wal-version": version.toString(),
        },
      };
      await this.producer.sendBatch({
        topicMessages: [{ topic: this.topic, messages: [message] }],
      });
    } catch (cause) {
      throw new TargetError(
        brokerRejected(cause) ? "permanent" : "transient",
        `Kafka topic '${this.topic}' refused the entry: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  async close(): Promise<void> {}
}

/**
 * Whether the broker itself refused the record for good (a non-retriable
 * protocol error such as MESSAGE_TOO_LARGE somewhere in the cause chain).
 * kafkajs marks "retries exhausted" as non-retriable too, but an outage is
 * transient, so only the protocol error decides.
 */
function brokerRejected(error: unknown): boolean {
  for (let e: unknown = error; typeof e === "object" && e !== null; ) {
    const { name, retriable, originalError, cause } = e as {
      name?: unknown;
      retriable?: unknown;
      originalError?: unknown;
      cause?: unknown;
    };
    if (name === "KafkaJSProtocolError" && retriable === false) return true;
    e = originalError ?? cause;
  }
  return false;
}
