import type { Kafka } from "kafkajs";
import { createIdempotentProducer, deleteNamespaceTopics } from "../adapters/kafka/index.ts";
import { WalClient } from "../client/index.ts";
import { benchNamespacesFile, type SpawnedService, spawnService } from "./spawn.ts";
import { formatTable, loadRow, loadTableHeader, runLoad } from "./stats.ts";

export interface WriteBenchOptions {
  kafka: Kafka;
  kafkaBrokers: string[];
  concurrencies: number[];
  writesPerLevel: number;
  payloadBytes: number;
  partitions: number;
}

/**
 * WriteToLog over gRPC against a raw kafkajs producer with the same settings
 * (idempotent, acks=all) on the same broker, at each concurrency level, in
 * one run. Each side writes to its own fresh topic with the same partitions.
 */
export async function benchWrite(
  options: WriteBenchOptions,
  progress: (line: string) => void,
): Promise<string> {
  const namespace = `bench-${Date.now().toString(36)}`;
  const rawTopic = `wal-bench-raw-${Date.now().toString(36)}`;
  const namespacesFile = await benchNamespacesFile({
    name: namespace,
    partitions: options.partitions,
    targets: { sink: { type: "kafka-topic", topic: `${rawTopic}-sink` } },
    defaultTarget: "sink",
  });
  const admin = options.kafka.admin();
  const producer = createIdempotentProducer(options.kafka);
  let gateway: SpawnedService | undefined;
  let client: WalClient | undefined;
  const rows: string[][] = [];
  try {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: rawTopic, numPartitions: options.partitions }],
    });
    await producer.connect();
    gateway = await spawnService(
      ["gateway", "--grpc-port", "0", "--http-port", "0"],
      {
        WAL_NAMESPACES_FILE: namespacesFile.path,
        WAL_KAFKA_BROKERS: options.kafkaBrokers.join(","),
      },
      "gateway serving",
    );
    const walClient = new WalClient(String(gateway.ready.grpc));
    client = walClient;
    const payload = Buffer.alloc(options.payloadBytes, 120);
    for (const concurrency of options.concurrencies) {
      progress(`concurrency ${concurrency}: WriteToLog…`);
      const wal = await runLoad(options.writesPerLevel, concurrency, async (i) => {
        const outcome = await walClient.write({ namespace, key: `key-${i % 1000}`, payload });
        return outcome.durable === "TRUE";
      });
      rows.push(loadRow("wal WriteToLog (gRPC)", concurrency, wal));
      progress(`concurrency ${concurrency}: raw kafkajs…`);
      const raw = await runLoad(options.writesPerLevel, concurrency, async (i) => {
        await producer.send({
          topic: rawTopic,
          acks: -1,
          messages: [{ key: `key-${i % 1000}`, value: payload }],
        });
        return true;
      });
      rows.push(loadRow("raw kafkajs producer", concurrency, raw));
    }
  } finally {
    client?.close();
    await gateway?.stop();
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [rawTopic] }).catch(() => undefined);
    await deleteNamespaceTopics(options.kafka, namespace).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await namespacesFile.remove();
  }
  return formatTable(loadTableHeader, rows);
}
