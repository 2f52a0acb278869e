import type { Kafka } from "kafkajs";
import { type NamespaceConfig, topicNames } from "../../core/index.ts";

/**
 * Creates the log topic of each namespace that lacks one, with the
 * partitions and replication factor of its config. Existing topics are left
 * as they are. Returns the names of the topics created.
 */
export async function ensureNamespaceTopics(
  kafka: Kafka,
  namespaces: NamespaceConfig[],
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = namespaces.filter((ns) => !existing.has(topicNames.log(ns.name)));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((ns) => ({
        topic: topicNames.log(ns.name),
        numPartitions: ns.partitions,
        replicationFactor: ns.replicationFactor,
        // acks=all then means "on two replicas" wherever there are two.
        configEntries: [
          { name: "min.insync.replicas", value: String(Math.min(2, ns.replicationFactor)) },
        ],
      })),
    });
    return missing.map((ns) => topicNames.log(ns.name));
  } finally {
    await admin.disconnect();
  }
}
