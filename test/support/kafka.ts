import { Kafka, logLevel } from "kafkajs";
import {
  deleteNamespaceTopics,
  readWholeTopic,
  type StoredRecord,
} from "../../services/adapters/kafka/index.ts";
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
export function dropNamespace(name: string): Promise<void> {
  return deleteNamespaceTopics(testKafka(), name);
}

/** Every committed record of a topic as it stands now. */
export function readTopic(topic: string): Promise<StoredRecord[]> {
  return readWholeTopic(testKafka(), topic);
}
