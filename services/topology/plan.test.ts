import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type NamespaceConfig, parseNamespaceConfig, topicNames } from "../core/index.ts";
import { planTopology } from "./plan.ts";

function ns(name: string, partitions = 3): NamespaceConfig {
  return parseNamespaceConfig({
    name,
    partitions,
    targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
    defaultTarget: "cache",
  });
}

/** A row as PostgreSQL's jsonb gives it back: same content, keys in another order. */
function storedAs(config: NamespaceConfig): unknown {
  return JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(config).reverse())));
}

describe("planTopology", () => {
  it("creates what is missing, in Kafka and in the control plane", () => {
    const plan = planTopology([ns("orders")], { topics: new Map(), namespaces: new Map() });
    assert.deepEqual(
      plan.actions.map((a) => a.kind),
      ["create-topic", "create-namespace"],
    );
  });

  it("plans nothing when everything matches, whatever the stored key order", () => {
    const orders = ns("orders");
    const plan = planTopology([orders], {
      topics: new Map([[topicNames.log("orders"), 3]]),
      namespaces: new Map([["orders", { version: 4, config: storedAs(orders) }]]),
    });
    assert.deepEqual(plan, { actions: [], notes: [] });
  });

  it("updates a differing row from the version it read", () => {
    const plan = planTopology([ns("orders", 6)], {
      topics: new Map([[topicNames.log("orders"), 6]]),
      namespaces: new Map([["orders", { version: 2, config: storedAs(ns("orders", 3)) }]]),
    });
    assert.deepEqual(
      plan.actions.map((a) => [a.kind, "expectedVersion" in a ? a.expectedVersion : undefined]),
      [["update-namespace", 2]],
    );
  });

  it("adds partitions only when allowed, never removes them, and never deletes", () => {
    const refused = planTopology([ns("grow", 6)], {
      topics: new Map([[topicNames.log("grow"), 3]]),
      namespaces: undefined,
    });
    assert.deepEqual(refused.actions, []);
    assert.match(refused.notes[0] ?? "", /--allow-repartition/);

    const plan = planTopology(
      [ns("grow", 6), ns("shrink", 2)],
      {
        topics: new Map([
          [topicNames.log("grow"), 3],
          [topicNames.log("shrink"), 4],
        ]),
        namespaces: new Map([
          ["grow", { version: 1, config: ns("grow", 6) }],
          ["shrink", { version: 1, config: ns("shrink", 2) }],
          ["orphan", { version: 1, config: ns("orphan") }],
        ]),
      },
      { allowRepartition: true },
    );
    assert.deepEqual(plan.actions, [
      { kind: "add-partitions", namespace: "grow", topic: topicNames.log("grow"), from: 3, to: 6 },
    ]);
    assert.equal(plan.notes.length, 2);
    assert.match(plan.notes[0] ?? "", /cannot remove partitions/);
    assert.match(plan.notes[1] ?? "", /'orphan'.*left alone/);
  });

  it("leaves the control plane out when no rows are given", () => {
    const plan = planTopology([ns("orders")], { topics: new Map(), namespaces: undefined });
    assert.deepEqual(
      plan.actions.map((a) => a.kind),
      ["create-topic"],
    );
  });
});
