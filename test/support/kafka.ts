import { Kafka, logLevel } from "kafkajs";
import { topicNames } from "../../services/core/index.ts";
import { kafkaBrokers } from "./servers.ts";

export function testKafka(): Kafka {
  return new Kafka({ clientId: "wal-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
}

/** Deletes topics and consumer groups a test made; what is already gone is fine. */
export async function deleteTopicsAndGroups(
  topics: string[],
  groups: string[] = [],
): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a namespace's topics (log, tiers, DLQ, holds) and processor group; for test cleanup. */
export async function dropNamespace(name: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  const topics = (await admin.listTopics().finally(() => admin.disconnect())).filter((t) =>
    t.startsWith(`wal.${name}.`),
  );
  await deleteTopicsAndGroups(topics, [topicNames.processorGroup(name)]);
}

/** Every record of a topic, read committed, with its headers as strings. */
export async function readTopic(
  topic: string,
): Promise<{ key: string; value: Buffer; headers: Record<string, string>; offset: string }[]> {
  const admin = testKafka().admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
  );
  const records: { key: string; value: Buffer; headers: Record<string, string>; offset: string }[] =
    [];
  if (remaining.size === 0) return records;
  const consumer = testKafka().consumer({ groupId: `wal-test-reader-${crypto.randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took too long`)), 30_000);
      // Batches of only transaction markers reach no handler, but do end a batch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (BigInt(payload.lastOffset) + 1n >= (remaining.get(payload.partition) ?? 0n)) {
          remaining.delete(payload.partition);
        }
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(m.headers ?? {})) {
              if (value !== undefined) headers[name] = String(value);
            }
            records.push({
              key: m.key?.toString() ?? "",
              value: m.value ?? Buffer.alloc(0),
              headers,
              offset: m.offset,
            });
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
