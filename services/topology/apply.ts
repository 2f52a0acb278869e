import type { Admin, Kafka } from "kafkajs";
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
 *
 * A namespace's topics must keep the same partition count: its
 * add-partitions actions go to Kafka in one request, and the next action
 * waits until Kafka reports the new counts (a topic created next takes the
 * log's count). Its missing topics are created together, with the count
 * the plan gives them when the log is among them.
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
    const ensured = new Set<string>();
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i] as TopologyAction;
      switch (action.kind) {
        case "create-topic":
          if (!ensured.has(action.namespace)) {
            await ensureNamespaceTopics(kafka, [
              { ...action.config, partitions: action.partitions },
            ]);
            ensured.add(action.namespace);
          }
          break;
        case "add-partitions": {
          const together = [action];
          let next = actions[i + 1];
          while (next?.kind === "add-partitions" && next.namespace === action.namespace) {
            together.push(next);
            next = actions[i + together.length];
          }
          await admin.createPartitions({
            topicPartitions: together.map((a) => ({ topic: a.topic, count: a.to })),
          });
          await untilPartitioned(admin, together);
          for (const grown of together) onDone(grown);
          i += together.length - 1;
          continue;
        }
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

/** Waits until Kafka's metadata gives each topic its new partition count. */
async function untilPartitioned(
  admin: Admin,
  grown: readonly { topic: string; to: number }[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { topics } = await admin.fetchTopicMetadata({ topics: grown.map((g) => g.topic) });
    const counts = new Map(topics.map((t) => [t.name, t.partitions.length]));
    const waiting = grown.filter((g) => (counts.get(g.topic) ?? 0) < g.to);
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka does not report the added partitions of ${waiting.map((g) => g.topic).join(", ")} after ${timeoutMs / 1000}s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
