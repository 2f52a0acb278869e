import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import type {
  NamespaceChange,
  NamespaceConfig,
  NamespaceRecord,
  NamespaceStore,
} from "../core/index.ts";
import { announcingStore } from "./announcing-store.ts";

const config = { name: "orders" } as NamespaceConfig;

function record(version: number): NamespaceRecord {
  const at = new Date(0).toISOString();
  return { name: "orders", version, config, createdAt: at, updatedAt: at };
}

/** A store that answers fixed versions: create 1, update 2, rollback 3, delete 4. */
const fixedStore: NamespaceStore = {
  create: async () => record(1),
  get: async () => record(1),
  list: async () => [record(1)],
  update: async () => record(2),
  rollback: async () => record(3),
  delete: async () => ({ namespace: "orders", version: 4, action: "delete" }) as NamespaceChange,
  history: async () => [],
};

function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: "warn" }, sink), lines };
}

describe("announcingStore", () => {
  it("announces each committed change with its version, never a dry run or a read", async () => {
    const announced: Array<{ name: string; version: number }> = [];
    const { logger } = capturingLogger();
    const store = announcingStore(fixedStore, async (c) => void announced.push(c), logger);
    const alice = { actor: "alice" };
    await store.create({}, { ...alice, dryRun: true });
    await store.update("orders", {}, 1, { ...alice, dryRun: true });
    await store.create({}, alice);
    await store.update("orders", {}, 1, alice);
    await store.rollback("orders", 1, 2, alice);
    await store.delete("orders", 3, alice);
    await store.get("orders");
    await store.list();
    await store.history("orders");
    assert.deepEqual(
      announced.map((c) => c.version),
      [1, 2, 3, 4],
    );
    assert.ok(announced.every((c) => c.name === "orders"));
  });

  it("answers the change even when announcing fails, and logs a warning", async () => {
    const { logger, lines } = capturingLogger();
    const store = announcingStore(
      fixedStore,
      async () => {
        throw new Error("NATS at 127.0.0.1:4222 is unreachable");
      },
      logger,
    );
    assert.equal((await store.update("orders", {}, 1, { actor: "alice" })).version, 2);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 1);
    assert.match(String(lines[0]?.msg), /committed but not announced/);
    assert.equal(lines[0]?.version, 2);
    assert.match(String(lines[0]?.msg), /127\.0\.0\.1:4222 is unreachable/);
  });

  it("answers the change even when the announcer throws instead of rejecting", async () => {
    const { logger, lines } = capturingLogger();
    const store = announcingStore(
      fixedStore,
      () => {
        throw new Error("announcer bug");
      },
      logger,
    );
    assert.equal((await store.rollback("orders", 1, 2, { actor: "alice" })).version, 3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(String(lines[0]?.msg), /announcer bug/);
  });
});
