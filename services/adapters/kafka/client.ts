import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "../../observability/index.ts";

export interface KafkaConnection {
  /** `host:port` list. */
  brokers: string[];
  clientId: string;
}

const levelNames: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** A kafkajs client whose own logs go through our structured logger. */
export function createKafka(connection: KafkaConnection, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: "kafkajs" });
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    connectionTimeout: 3_000,
    // Our own deadlines bound each operation; this only keeps kafkajs from waiting forever.
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        // kafkajs warns that bounded retries weaken an idempotent producer; RecyclingProducer
        // discards a producer after any failed send, which is what keeps them sound here.
        if (message.startsWith("Limiting retries for the idempotent producer")) return;
        kafkaLogger[levelNames[level] ?? "info"](extra, message);
      },
  });
}

/**
 * The producer every WAL component appends with: idempotent (so broker-side
 * retries never duplicate), one request in flight, and the Java-compatible
 * partitioner so a key maps to the same partition as in every other Kafka
 * client. Its retries are bounded; wrap it in a RecyclingProducer, which
 * discards it after a failed send so the bound cannot cost a record.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
