import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TargetConfig } from "./namespace-config.ts";
import {
  memcachedMaxItemBytes,
  memcachedMaxKeyBytes,
  targetLimitProblem,
} from "./target-limits.ts";

const memcached: TargetConfig = {
  type: "memcached",
  servers: "127.0.0.1:11211",
  keyPrefix: "app:",
  expiresSeconds: 0,
};

describe("targetLimitProblem", () => {
  it("accepts a cache key exactly at the limit, prefix included", () => {
    const address = "k".repeat(memcachedMaxKeyBytes - "app:".length);
    assert.equal(targetLimitProblem(memcached, address, 10), undefined);
  });

  it("refuses a cache key one byte over the limit, counting UTF-8 bytes", () => {
    const address = `${"k".repeat(memcachedMaxKeyBytes - "app:".length - 1)}é`;
    assert.equal(targetLimitProblem(memcached, address, 10)?.field, "key");
  });

  it("refuses a payload over memcached's item limit", () => {
    assert.equal(targetLimitProblem(memcached, "k", memcachedMaxItemBytes)?.field, undefined);
    assert.equal(targetLimitProblem(memcached, "k", memcachedMaxItemBytes + 1)?.field, "payload");
  });

  it("puts no such limits on webhook and Kafka topic targets", () => {
    const long = "k".repeat(1000);
    const webhook: TargetConfig = { type: "webhook", url: "http://127.0.0.1:1/x", timeoutMs: 1 };
    const topic: TargetConfig = { type: "kafka-topic", topic: "t" };
    assert.equal(targetLimitProblem(webhook, long, 5_000_000), undefined);
    assert.equal(targetLimitProblem(topic, long, 5_000_000), undefined);
  });
});
