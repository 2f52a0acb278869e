import type { Kafka } from "kafkajs";
import { ensureNamespaceTopics } from "../adapters/kafka/index.ts";
import type { ControlPlaneClient } from "../control-plane/index.ts";
import type { NamespaceConfig } from "../core/index.ts";
import { type PlanOptions, planTopology, type TopologyAction, type TopologyPlan } from "./plan.ts";

/** Reads what exists (Kafka topics, and control-plane rows when a client is given) and plans. */
export async function readAndPlan(
  declared: readonly NamespaceConfig[],
  kafka: Kafka,
  controlPlane: ControlPlaneClient | undefined,
  options: PlanOptions = {},
): Promise<TopologyPlan> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = await admin.listTopics();
    const metadata =
      names.length === 0 ? { topics: [] } : await admin.fetchTopicMetadata({ topics: names });
    const topics = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    const rows = controlPlane === undefined ? undefined : await controlPlane.list();
    return planTopology(
      declared,
      {
        topics,
        namespaces: rows === undefined ? undefined : new Map(rows.map((r) => [r.name, r])),
      },
      options,
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Carries out a plan's actions in order: topics first (a namespace must not
 * take writes before its log exists), then control-plane rows. An update
 * sends the version the plan read, so a concurrent change is refused with
 * WAL_NAMESPACE_CONFLICT instead of overwritten.
 */
export async function applyTopology(
  actions: readonly TopologyAction[],
  kafka: Kafka,
  controlPlane: ControlPlaneClient | undefined,
  onDone: (action: TopologyAction) => void,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const action of actions) {
      switch (action.kind) {
        case "create-topic":
          await ensureNamespaceTopics(kafka, [action.config]);
          break;
        case "add-partitions":
          await admin.createPartitions({
            topicPartitions: [{ topic: action.topic, count: action.to }],
          });
          break;
        case "create-namespace":
          await controlPlane?.create(action.config);
          break;
        case "update-namespace":
          await controlPlane?.update(action.namespace, action.config, action.expectedVersion);
          break;
      }
      onDone(action);
    }
  } finally {
    await admin.disconnect();
  }
}
