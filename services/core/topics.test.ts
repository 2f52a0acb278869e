import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { namespaceTopics, topicNames } from "./topics.ts";

describe("topicNames", () => {
  it("names the log topic and processor group of a namespace", () => {
    assert.equal(topicNames.log("orders"), "wal.orders.log");
    assert.equal(topicNames.processorGroup("orders"), "wal.orders.processor");
  });

  it("gives different namespaces different topics and groups", () => {
    const names = ["orders", "payments", "orders-eu"].flatMap((ns) => [
      topicNames.log(ns),
      topicNames.processorGroup(ns),
    ]);
    assert.equal(new Set(names).size, names.length);
  });

  it("yields valid Kafka topic names for every valid namespace name", () => {
    for (const ns of ["a", "orders-eu-1", `a${"b".repeat(62)}`]) {
      assert.match(topicNames.log(ns), /^[a-zA-Z0-9._-]{1,249}$/);
    }
  });
});

describe("namespaceTopics", () => {
  it("lists the log, one topic per retry tier, the DLQ and the holds, all distinct", () => {
    const topics = namespaceTopics("orders", 3);
    assert.deepEqual(
      topics.map((t) => t.topic),
      [
        "wal.orders.log",
        "wal.orders.retry.1",
        "wal.orders.retry.2",
        "wal.orders.retry.3",
        "wal.orders.dlq",
        "wal.orders.holds",
      ],
    );
    assert.deepEqual(
      topics.map((t) => t.role),
      ["log", "retry", "retry", "retry", "dead-letter", "holds"],
    );
  });
});
