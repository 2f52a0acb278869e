import type { Admin, Kafka } from "kafkajs";
import {
  type NamespaceConfig,
  namespaceTopics,
  topicNames,
  topicRetentionMs,
} from "../../core/index.ts";

function configOf(role: string, ns: NamespaceConfig): { name: string; value: string }[] {
  // acks=all then means "on two replicas" wherever there are two.
  const entries = [
    { name: "min.insync.replicas", value: String(Math.min(2, ns.replicationFactor)) },
  ];
  if (role === "holds") entries.push({ name: "cleanup.policy", value: "compact" });
  else entries.push({ name: "retention.ms", value: String(topicRetentionMs) });
  return entries;
}

/**
 * Creates every topic of each namespace that lacks one: the log, a topic
 * per retry tier, the DLQ and the compacted holds. All of a namespace's
 * topics have the same partition count (slices are co-partitioned): a new
 * topic takes the log's current count when the log exists. Existing topics
 * are left as they are. Returns the names of the topics created.
 */
export async function ensureNamespaceTopics(
  kafka: Kafka,
  namespaces: NamespaceConfig[],
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const toCreate: {
      topic: string;
      numPartitions: number;
      replicationFactor: number;
      configEntries: { name: string; value: string }[];
    }[] = [];
    for (const ns of namespaces) {
      const topics = namespaceTopics(ns.name, ns.retry.tiers.length);
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length === 0) continue;
      const log = topics[0]?.topic as string;
      const partitions = existing.has(log) ? await partitionCount(admin, log) : ns.partitions;
      for (const t of missing) {
        toCreate.push({
          topic: t.topic,
          numPartitions: partitions,
          replicationFactor: ns.replicationFactor,
          configEntries: configOf(t.role, ns),
        });
      }
    }
    if (toCreate.length === 0) return [];
    await admin.createTopics({ waitForLeaders: true, topics: toCreate });
    return toCreate.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length ?? 0;
}

/**
 * Deletes every topic of a namespace (whatever its tiers were) and its
 * processor group; what is already gone is fine. For benchmarks and tests.
 */
export async function deleteNamespaceTopics(kafka: Kafka, namespace: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`wal.${namespace}.`));
    await admin.deleteGroups([topicNames.processorGroup(namespace)]).catch(() => undefined);
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
