import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyChains } from "./key-chains.ts";

describe("KeyChains", () => {
  it("keeps each key's waiting entries in log order, whatever order they arrive in", () => {
    const chains = new KeyChains();
    chains.put("k", { logOffset: 7n, notBeforeMs: 100 });
    chains.put("k", { logOffset: 3n, notBeforeMs: 50 });
    chains.put("k", { logOffset: 9n, notBeforeMs: 10 });
    assert.deepEqual(
      chains.links("k").map((l) => l.logOffset),
      [3n, 7n, 9n],
    );
    assert.ok(chains.isHead("k", 3n));
    assert.ok(!chains.isHead("k", 7n));
    assert.ok(!chains.isHeld("other"));
  });

  it("reschedules an entry in place and frees the key when its last entry leaves", () => {
    const chains = new KeyChains();
    chains.put("k", { logOffset: 3n, notBeforeMs: 50 });
    chains.put("k", { logOffset: 3n, notBeforeMs: 500 });
    assert.equal(chains.links("k").length, 1);
    assert.equal(chains.head("k")?.notBeforeMs, 500);
    chains.remove("k", 3n);
    assert.ok(!chains.isHeld("k"));
    assert.equal(chains.size, 0);
  });

  it("places a waiting entry just behind the head, by its place in line", () => {
    const chains = new KeyChains();
    chains.put("k", { logOffset: 3n, notBeforeMs: 1_000 });
    chains.put("k", { logOffset: 5n, notBeforeMs: 1 });
    assert.equal(chains.behindHead("k", 5n), 1_001);
    assert.equal(chains.behindHead("k", 8n), 1_002, "a newcomer goes after everything waiting");
    assert.equal(chains.behindHead("free", 1n), undefined);
  });

  it("round-trips through its holds-topic value, and a tombstone clears the key", () => {
    const chains = new KeyChains();
    chains.put("k", { logOffset: 12345678901234n, notBeforeMs: 42 });
    chains.put("k", { logOffset: 2n, notBeforeMs: 7 });
    const value = chains.encode("k");
    const loaded = new KeyChains();
    loaded.load("k", value);
    assert.deepEqual(loaded.links("k"), chains.links("k"));
    loaded.load("k", null);
    assert.ok(!loaded.isHeld("k"));
    assert.equal(new KeyChains().encode("k"), null);
  });
});
