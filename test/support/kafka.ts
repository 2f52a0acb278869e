import { Kafka, logLevel } from "kafkajs";
import { topicNames } from "../../services/core/index.ts";
import { kafkaBrokers } from "./servers.ts";

export function testKafka(): Kafka {
  return new Kafka({ clientId: "wal-test", brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
}

/** Deletes a namespace's topics and processor group; for test cleanup. */
export async function dropNamespace(name: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.deleteGroups([topicNames.processorGroup(name)]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topicNames.log(name)] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
