import { isDeepStrictEqual } from "node:util";
import { type NamespaceConfig, parseNamespaceConfig, topicNames } from "../core/index.ts";

export type TopologyAction =
  | { kind: "create-topic"; namespace: string; topic: string; config: NamespaceConfig }
  | { kind: "add-partitions"; namespace: string; topic: string; from: number; to: number }
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
 */
export function planTopology(
  declared: readonly NamespaceConfig[],
  existing: ExistingState,
  options: PlanOptions = {},
): TopologyPlan {
  const actions: TopologyAction[] = [];
  const notes: string[] = [];
  for (const ns of declared) {
    const topic = topicNames.log(ns.name);
    const partitions = existing.topics.get(topic);
    if (partitions === undefined) {
      actions.push({ kind: "create-topic", namespace: ns.name, topic, config: ns });
    } else if (partitions < ns.partitions && options.allowRepartition !== true) {
      notes.push(
        `${topic} has ${partitions} partitions, fewer than the ${ns.partitions} declared; adding partitions moves keys and can reorder a key's undelivered entries, so it is left as is: drain the log, then apply with --allow-repartition`,
      );
    } else if (partitions < ns.partitions) {
      actions.push({
        kind: "add-partitions",
        namespace: ns.name,
        topic,
        from: partitions,
        to: ns.partitions,
      });
    } else if (partitions > ns.partitions) {
      notes.push(
        `${topic} has ${partitions} partitions, more than the ${ns.partitions} declared; Kafka cannot remove partitions, so it stays as it is`,
      );
    }

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

/** One line per action, for people. */
export function describeAction(action: TopologyAction): string {
  switch (action.kind) {
    case "create-topic":
      return `create topic ${action.topic} with ${action.config.partitions} partitions`;
    case "add-partitions":
      return `add partitions to ${action.topic}: ${action.from} → ${action.to}`;
    case "create-namespace":
      return `create namespace '${action.namespace}' in the control plane`;
    case "update-namespace":
      return `update namespace '${action.namespace}' in the control plane (from version ${action.expectedVersion})`;
  }
}
