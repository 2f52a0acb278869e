import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type NamespaceConfig,
  namespaceTopics,
  parseNamespaceConfig,
  topicNames,
} from "../core/index.ts";
import { describeAction, type ExistingState, planTopology, type TopologyAction } from "./plan.ts";

const twoTiers = ["5s", "1m"];

function ns(name: string, partitions = 3, tiers: string[] = twoTiers): NamespaceConfig {
  return parseNamespaceConfig({
    name,
    partitions,
    targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
    defaultTarget: "cache",
    retry: { tiers },
  });
}

/** Every topic of `name` with `partitions`, as Kafka would list them. */
function topicsOf(name: string, partitions: number, tierCount = twoTiers.length) {
  return namespaceTopics(name, tierCount).map((t) => [t.topic, partitions] as [string, number]);
}

/** A row as PostgreSQL's jsonb gives it back: same content, keys in another order. */
function storedAs(config: NamespaceConfig): unknown {
  return JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(config).reverse())));
}

/** [kind, topic, partitions] of each topic action, for short assertions. */
function topicActions(actions: readonly TopologyAction[]): [string, string, number][] {
  return actions.flatMap((a): [string, string, number][] => {
    if (a.kind === "create-topic") return [[a.kind, a.topic, a.partitions]];
    if (a.kind === "add-partitions") return [[a.kind, a.topic, a.to]];
    return [];
  });
}

/**
 * Applies topic actions to a copy of the topics as Kafka would: a created
 * topic takes the log's count when the log exists (ensureNamespaceTopics),
 * which must be the count the plan gave it.
 */
function applied(topics: ReadonlyMap<string, number>, actions: readonly TopologyAction[]) {
  const after = new Map(topics);
  for (const a of actions) {
    if (a.kind === "add-partitions") {
      assert.equal(after.get(a.topic), a.from, `${a.topic} grows from what it has`);
      after.set(a.topic, a.to);
    } else if (a.kind === "create-topic") {
      const log = after.get(topicNames.log(a.namespace));
      if (log !== undefined) assert.equal(a.partitions, log, `${a.topic} takes the log's count`);
      after.set(a.topic, a.partitions);
    }
  }
  return after;
}

/** Plans, applies, and plans again: the second plan has nothing to do. */
function planTwice(declared: NamespaceConfig[], topics: Map<string, number>) {
  const first = planTopology(
    declared,
    { topics, namespaces: undefined },
    { allowRepartition: true },
  );
  const after = applied(topics, first.actions);
  const second = planTopology(
    declared,
    { topics: after, namespaces: undefined },
    { allowRepartition: true },
  );
  assert.deepEqual(second.actions, []);
  return { first, after, second };
}

describe("planTopology", () => {
  it("creates every topic of a new namespace, then its row in the control plane", () => {
    const plan = planTopology([ns("orders")], { topics: new Map(), namespaces: new Map() });
    assert.deepEqual(
      plan.actions.map((a) => [a.kind, "topic" in a ? a.topic : a.namespace]),
      [
        ["create-topic", "wal.orders.log"],
        ["create-topic", "wal.orders.retry.1"],
        ["create-topic", "wal.orders.retry.2"],
        ["create-topic", "wal.orders.dlq"],
        ["create-topic", "wal.orders.holds"],
        ["create-namespace", "orders"],
      ],
    );
    assert.deepEqual(
      plan.actions.map((a) => ("role" in a ? a.role : undefined)),
      ["log", "retry", "retry", "dead-letter", "holds", undefined],
    );
    for (const a of plan.actions) if (a.kind === "create-topic") assert.equal(a.partitions, 3);
    assert.deepEqual(plan.notes, []);
  });

  it("creates a retry topic per configured tier", () => {
    const plan = planTopology([ns("orders", 2, ["1s", "2s", "3s", "4s", "5s"])], {
      topics: new Map(),
      namespaces: undefined,
    });
    assert.deepEqual(
      plan.actions
        .filter((a) => "role" in a && a.role === "retry")
        .map((a) => "topic" in a && a.topic),
      [1, 2, 3, 4, 5].map((tier) => topicNames.retry("orders", tier)),
    );
  });

  it("plans nothing when everything matches, whatever the stored key order", () => {
    const orders = ns("orders");
    const plan = planTopology([orders], {
      topics: new Map(topicsOf("orders", 3)),
      namespaces: new Map([["orders", { version: 4, config: storedAs(orders) }]]),
    });
    assert.deepEqual(plan, { actions: [], notes: [] });
  });

  it("updates a differing row from the version it read", () => {
    const plan = planTopology([ns("orders", 6)], {
      topics: new Map(topicsOf("orders", 6)),
      namespaces: new Map([["orders", { version: 2, config: storedAs(ns("orders", 3)) }]]),
    });
    assert.deepEqual(
      plan.actions.map((a) => [a.kind, "expectedVersion" in a ? a.expectedVersion : undefined]),
      [["update-namespace", 2]],
    );
  });

  it("creates only the missing topics of an older namespace, with its log's count", () => {
    // Declared 4, but the log has 2: without --allow-repartition it stays 2.
    const topics = new Map([[topicNames.log("old"), 2]]);
    const plan = planTopology([ns("old", 4)], { topics, namespaces: undefined });
    assert.deepEqual(topicActions(plan.actions), [
      ["create-topic", "wal.old.retry.1", 2],
      ["create-topic", "wal.old.retry.2", 2],
      ["create-topic", "wal.old.dlq", 2],
      ["create-topic", "wal.old.holds", 2],
    ]);
    assert.equal(plan.notes.length, 1);
    assert.match(plan.notes[0] ?? "", /wal\.old\.log has 2 partitions, fewer than the 4 declared/);
    assert.match(plan.notes[0] ?? "", /--allow-repartition/);
    assert.deepEqual(
      [...applied(topics, plan.actions).values()],
      [2, 2, 2, 2, 2],
      "all of the namespace's topics alike",
    );
  });

  it("creates only the tiers added to a longer tiers list", () => {
    const topics = new Map(topicsOf("orders", 3, 2));
    const plan = planTopology([ns("orders", 3, ["1s", "2s", "3s", "4s"])], {
      topics,
      namespaces: undefined,
    });
    assert.deepEqual(topicActions(plan.actions), [
      ["create-topic", "wal.orders.retry.3", 3],
      ["create-topic", "wal.orders.retry.4", 3],
    ]);
    assert.deepEqual(plan.notes, []);
  });

  it("grows every topic of a namespace together, only when allowed", () => {
    const topics = new Map(topicsOf("grow", 3));
    const refused = planTopology([ns("grow", 6)], { topics, namespaces: undefined });
    assert.deepEqual(refused.actions, []);
    assert.equal(refused.notes.length, 1);
    assert.match(
      refused.notes[0] ?? "",
      /the 5 topics of namespace 'grow' have 3 partitions, fewer than the 6 declared.*--allow-repartition/,
    );

    const { first } = planTwice([ns("grow", 6)], topics);
    assert.deepEqual(
      first.actions,
      namespaceTopics("grow", 2).map((t) => ({
        kind: "add-partitions",
        namespace: "grow",
        topic: t.topic,
        role: t.role,
        from: 3,
        to: 6,
      })),
    );
    assert.deepEqual(first.notes, []);
  });

  it("grows the log before creating missing topics, so they take the new count", () => {
    const topics = new Map([
      [topicNames.log("old"), 2],
      [topicNames.deadLetter("old"), 2],
    ]);
    const { first, after } = planTwice([ns("old", 4)], topics);
    assert.deepEqual(topicActions(first.actions), [
      ["add-partitions", "wal.old.log", 4],
      ["add-partitions", "wal.old.dlq", 4],
      ["create-topic", "wal.old.retry.1", 4],
      ["create-topic", "wal.old.retry.2", 4],
      ["create-topic", "wal.old.holds", 4],
    ]);
    assert.deepEqual(new Set(after.values()), new Set([4]));
  });

  it("says when a namespace's topics differ in partitions and brings them all to its count", () => {
    const topics = new Map([
      ...topicsOf("mixed", 6),
      [topicNames.retry("mixed", 2), 3],
      [topicNames.holds("mixed"), 3],
    ]);
    // The declared count matches the log: nothing else would hint at a problem.
    const refused = planTopology([ns("mixed", 6)], { topics, namespaces: undefined });
    assert.deepEqual(refused.actions, []);
    assert.equal(refused.notes.length, 1);
    assert.match(
      refused.notes[0] ?? "",
      /namespace 'mixed' has topics with different partition counts \(3 partitions: wal\.mixed\.retry\.2, wal\.mixed\.holds; 6: wal\.mixed\.log, wal\.mixed\.retry\.1, wal\.mixed\.dlq\).*--allow-repartition to bring them all to 6/,
    );

    const { first, after, second } = planTwice([ns("mixed", 6)], topics);
    assert.deepEqual(topicActions(first.actions), [
      ["add-partitions", "wal.mixed.retry.2", 6],
      ["add-partitions", "wal.mixed.holds", 6],
    ]);
    assert.match(first.notes[0] ?? "", /different partition counts.*bring them all to 6/);
    assert.deepEqual(new Set(after.values()), new Set([6]));
    assert.deepEqual(second.notes, []);
  });

  it("brings uneven topics to the most any has when that is more than declared", () => {
    const topics = new Map([...topicsOf("wide", 2), [topicNames.log("wide"), 4]]);
    const { first, after, second } = planTwice([ns("wide", 2)], topics);
    assert.deepEqual(
      topicActions(first.actions),
      ["wal.wide.retry.1", "wal.wide.retry.2", "wal.wide.dlq", "wal.wide.holds"].map((topic) => [
        "add-partitions",
        topic,
        4,
      ]),
    );
    assert.equal(first.notes.length, 2);
    assert.match(
      first.notes[0] ?? "",
      /declares 2 partitions, but wal\.wide\.log has 4; Kafka cannot remove/,
    );
    assert.match(first.notes[1] ?? "", /different partition counts/);
    assert.deepEqual(new Set(after.values()), new Set([4]));
    assert.equal(second.notes.length, 1);
    assert.match(
      second.notes[0] ?? "",
      /the 5 topics of namespace 'wide' have 4 partitions, more than the 2 declared/,
    );
  });

  it("never removes partitions, and never deletes", () => {
    const plan = planTopology(
      [ns("grow", 6), ns("shrink", 2)],
      {
        topics: new Map([...topicsOf("grow", 3), ...topicsOf("shrink", 4)]),
        namespaces: new Map([
          ["grow", { version: 1, config: ns("grow", 6) }],
          ["shrink", { version: 1, config: ns("shrink", 2) }],
          ["orphan", { version: 1, config: ns("orphan") }],
        ]),
      },
      { allowRepartition: true },
    );
    assert.deepEqual(
      topicActions(plan.actions),
      namespaceTopics("grow", 2).map((t) => ["add-partitions", t.topic, 6]),
    );
    assert.equal(plan.notes.length, 2);
    assert.match(plan.notes[0] ?? "", /'shrink'.*cannot remove partitions/);
    assert.match(plan.notes[1] ?? "", /'orphan'.*left alone/);
  });

  it("leaves the topics of tiers no longer configured alone, and notes them", () => {
    const existing: ExistingState = {
      topics: new Map([...topicsOf("short", 3, 4), [topicNames.retry("short", 4), 2]]),
      namespaces: undefined,
    };
    const plan = planTopology([ns("short", 3, ["5s"])], existing, { allowRepartition: true });
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.notes.length, 3);
    assert.match(
      plan.notes[0] ?? "",
      /^wal\.short\.retry\.2 is retry tier 2, but namespace 'short' has only 1 retry tier now; left alone$/,
    );
    assert.match(plan.notes[1] ?? "", /^wal\.short\.retry\.3 is retry tier 3/);
    assert.match(
      plan.notes[2] ?? "",
      /retry\.4 .*left alone \(with its 2 partitions, not the namespace's 3\)/,
    );
  });

  it("does not take another namespace's topics for tiers", () => {
    const plan = planTopology([ns("a", 3, ["5s"])], {
      topics: new Map([...topicsOf("a", 3, 1), ...topicsOf("a-b", 3, 4), ["wal.a.retry.x", 3]]),
      namespaces: undefined,
    });
    assert.deepEqual(plan, { actions: [], notes: [] });
  });

  it("leaves the control plane out when no rows are given", () => {
    const plan = planTopology([ns("orders")], { topics: new Map(), namespaces: undefined });
    assert.deepEqual(new Set(plan.actions.map((a) => a.kind)), new Set(["create-topic"]));
  });
});

describe("describeAction", () => {
  it("names the topic, its role and the partitions", () => {
    const created = planTopology([ns("orders")], { topics: new Map(), namespaces: undefined });
    assert.deepEqual(created.actions.map(describeAction), [
      "create topic wal.orders.log (log) with 3 partitions",
      "create topic wal.orders.retry.1 (retry) with 3 partitions",
      "create topic wal.orders.retry.2 (retry) with 3 partitions",
      "create topic wal.orders.dlq (dead-letter) with 3 partitions",
      "create topic wal.orders.holds (holds) with 3 partitions",
    ]);
    const grown = planTopology(
      [ns("orders", 4)],
      { topics: new Map(topicsOf("orders", 3)), namespaces: undefined },
      { allowRepartition: true },
    );
    assert.equal(
      describeAction(grown.actions[1] as TopologyAction),
      "add partitions to wal.orders.retry.1 (retry): 3 → 4",
    );
  });
});
