import { isDeepStrictEqual } from "node:util";
import {
  type NamespaceConfig,
  namespaceTopics,
  parseNamespaceConfig,
  topicNames,
} from "../core/index.ts";

/** What a topic of a namespace is for (see namespaceTopics). */
export type TopicRole = ReturnType<typeof namespaceTopics>[number]["role"];

export type TopologyAction =
  | {
      kind: "create-topic";
      namespace: string;
      topic: string;
      role: TopicRole;
      /** The namespace's count when the topic is created: all its topics have the same. */
      partitions: number;
      config: NamespaceConfig;
    }
  | {
      kind: "add-partitions";
      namespace: string;
      topic: string;
      role: TopicRole;
      from: number;
      to: number;
    }
  | { kind: "create-namespace"; namespace: string; config: NamespaceConfig }
  | {
      kind: "update-namespace";
      namespace: string;
      config: NamespaceConfig;
      expectedVersion: number;
    };

export interface TopologyPlan {
  actions: TopologyAction[];
  /** Things the plan cannot or will not change, each with the reason. */
  notes: string[];
}

export interface PlanOptions {
  /**
   * Adding partitions moves keys to other partitions: entries of a key still
   * undelivered on the old one could then be applied after newer ones. Only
   * with this set (after draining the log) does a plan add partitions.
   * @default false
   */
  allowRepartition?: boolean;
}

export interface ExistingState {
  /** Partitions of each existing topic. */
  topics: ReadonlyMap<string, number>;
  /** Control-plane rows by name; undefined when the plan leaves the control plane out. */
  namespaces: ReadonlyMap<string, { version: number; config: unknown }> | undefined;
}

/**
 * What it takes to make Kafka and the control plane match the declared
 * namespaces. Pure: the caller reads the existing state and applies the
 * actions. Never deletes: a namespace or topic that exists but is not
 * declared is only noted, and partitions are only ever added (Kafka cannot
 * remove them), and only when asked to (see PlanOptions.allowRepartition).
 * A namespace's actions come together, topics first; of its topics, added
 * partitions come before created topics (which take the log's count).
 */
export function planTopology(
  declared: readonly NamespaceConfig[],
  existing: ExistingState,
  options: PlanOptions = {},
): TopologyPlan {
  const actions: TopologyAction[] = [];
  const notes: string[] = [];
  for (const ns of declared) {
    planTopics(ns, existing.topics, options.allowRepartition === true, actions, notes);

    if (existing.namespaces === undefined) continue;
    const row = existing.namespaces.get(ns.name);
    if (row === undefined)
      actions.push({ kind: "create-namespace", namespace: ns.name, config: ns });
    else if (!isDeepStrictEqual(parseNamespaceConfig(row.config), ns)) {
      actions.push({
        kind: "update-namespace",
        namespace: ns.name,
        config: ns,
        expectedVersion: row.version,
      });
    }
  }
  const declaredNames = new Set(declared.map((ns) => ns.name));
  for (const name of existing.namespaces?.keys() ?? []) {
    if (!declaredNames.has(name)) {
      notes.push(
        `namespace '${name}' exists in the control plane but not in the topology; left alone`,
      );
    }
  }
  return { actions, notes };
}

const repartitionRisk = "adding partitions moves keys and can reorder a key's undelivered entries";
const repartitionHow = "drain the log and its retry tiers, then apply with --allow-repartition";

/**
 * The topics of one namespace: the log, a topic per retry tier, the DLQ and
 * the holds. The processor assigns partition p of every one of them to the
 * same member, so they must all have the same partition count: the
 * namespace's target, the declared count or, as Kafka cannot remove
 * partitions, the most any of them has. Partitions are added to all of
 * those below it together, and only with allowRepartition; a missing topic
 * is created with the log's count (the target when partitions are added
 * first, or when nothing exists yet).
 */
function planTopics(
  ns: NamespaceConfig,
  topics: ReadonlyMap<string, number>,
  allowRepartition: boolean,
  actions: TopologyAction[],
  notes: string[],
): void {
  const wanted = namespaceTopics(ns.name, ns.retry.tiers.length).map((t) => ({
    ...t,
    partitions: topics.get(t.topic),
  }));
  const present = wanted.filter(
    (t): t is (typeof wanted)[number] & { partitions: number } => t.partitions !== undefined,
  );
  const most = Math.max(0, ...present.map((t) => t.partitions));
  const target = Math.max(ns.partitions, most);
  const uneven = new Set(present.map((t) => t.partitions)).size > 1;
  const behind = present.filter((t) => t.partitions < target);
  const subject =
    present.length === 1
      ? `${present[0]?.topic} has`
      : `the ${present.length} topics of namespace '${ns.name}' have`;

  if (most > ns.partitions) {
    notes.push(
      uneven
        ? `namespace '${ns.name}' declares ${ns.partitions} partitions, but ${present
            .filter((t) => t.partitions > ns.partitions)
            .map((t) => `${t.topic} has ${t.partitions}`)
            .join(", ")}; Kafka cannot remove partitions, so ${most} stays the namespace's count`
        : `${subject} ${most} partitions, more than the ${ns.partitions} declared; Kafka cannot remove partitions, so ${present.length === 1 ? "it stays as it is" : "they stay as they are"}`,
    );
  }
  if (uneven) {
    notes.push(
      `namespace '${ns.name}' has topics with different partition counts (${countsOf(present)}), but the processor needs the same count on all of them; ${
        allowRepartition
          ? `adding partitions to bring them all to ${target}`
          : `${repartitionRisk}, so they are left as they are: ${repartitionHow} to bring them all to ${target}`
      }`,
    );
  } else if (behind.length > 0 && !allowRepartition) {
    notes.push(
      `${subject} ${most} partitions, fewer than the ${ns.partitions} declared; ${repartitionRisk}, so ${present.length === 1 ? "it is left as it is" : "they are left as they are"}: ${repartitionHow}`,
    );
  }
  if (allowRepartition) {
    for (const t of behind) {
      actions.push({
        kind: "add-partitions",
        namespace: ns.name,
        topic: t.topic,
        role: t.role,
        from: t.partitions,
        to: target,
      });
    }
  }

  const log = wanted[0]?.partitions;
  const createWith = present.length === 0 || allowRepartition ? target : (log ?? most);
  for (const t of wanted) {
    if (t.partitions !== undefined) continue;
    actions.push({
      kind: "create-topic",
      namespace: ns.name,
      topic: t.topic,
      role: t.role,
      partitions: createWith,
      config: ns,
    });
  }

  // Tiers no longer configured (the tiers list got shorter): never deleted.
  const unused: { tier: number; topic: string; partitions: number }[] = [];
  for (const [topic, partitions] of topics) {
    const tier = Number(/\.(\d+)$/.exec(topic)?.[1]);
    if (tier > ns.retry.tiers.length && topicNames.retry(ns.name, tier) === topic)
      unused.push({ tier, topic, partitions });
  }
  const tiers = `${ns.retry.tiers.length} retry tier${ns.retry.tiers.length === 1 ? "" : "s"}`;
  for (const { tier, topic, partitions } of unused.sort((a, b) => a.tier - b.tier)) {
    notes.push(
      `${topic} is retry tier ${tier}, but namespace '${ns.name}' has only ${tiers} now; left alone${
        partitions === target
          ? ""
          : ` (with its ${partitions} partitions, not the namespace's ${target})`
      }`,
    );
  }
}

/** "3 partitions: wal.a.log, wal.a.dlq; 6: wal.a.retry.1", fewest first. */
function countsOf(topics: readonly { topic: string; partitions: number }[]): string {
  const byCount = new Map<number, string[]>();
  for (const t of topics)
    byCount.set(t.partitions, [...(byCount.get(t.partitions) ?? []), t.topic]);
  return [...byCount]
    .sort(([a], [b]) => a - b)
    .map(([count, names], i) => `${count}${i === 0 ? " partitions" : ""}: ${names.join(", ")}`)
    .join("; ");
}

/** One line per action, for people. */
export function describeAction(action: TopologyAction): string {
  switch (action.kind) {
    case "create-topic":
      return `create topic ${action.topic} (${action.role}) with ${action.partitions} partitions`;
    case "add-partitions":
      return `add partitions to ${action.topic} (${action.role}): ${action.from} → ${action.to}`;
    case "create-namespace":
      return `create namespace '${action.namespace}' in the control plane`;
    case "update-namespace":
      return `update namespace '${action.namespace}' in the control plane (from version ${action.expectedVersion})`;
  }
}
