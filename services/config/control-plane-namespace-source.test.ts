import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { afterEach, describe, it } from "node:test";
import { pino } from "pino";
import type { NamespaceChanged, NatsStatus } from "../adapters/nats/index.ts";
import {
  ErrorCode,
  type NamespaceConfig,
  type NamespaceRecord,
  type NamespaceUpdate,
  namespaceNotFound,
  WalError,
} from "../core/index.ts";
import {
  ControlPlaneNamespaceSource,
  type NamespaceReader,
  type SubscribeToChanges,
} from "./control-plane-namespace-source.ts";

function configOf(name: string, keyPrefix: string): NamespaceConfig {
  return {
    name,
    targets: { cache: { type: "memcached", keyPrefix } },
  } as unknown as NamespaceConfig;
}

/** An in-memory store whose reads can be made to fail, counting the reads of each kind. */
class FakeStore implements NamespaceReader {
  readonly records = new Map<string, NamespaceRecord>();
  down = false;
  gets: string[] = [];
  lists = 0;

  put(name: string, version: number, keyPrefix = `v${version}:`): void {
    const at = new Date().toISOString();
    this.records.set(name, {
      name,
      version,
      config: configOf(name, keyPrefix),
      createdAt: at,
      updatedAt: at,
    });
  }

  async get(name: string): Promise<NamespaceRecord> {
    this.gets.push(name);
    this.failIfDown();
    const record = this.records.get(name);
    if (record === undefined) throw namespaceNotFound(name);
    return record;
  }

  async list(): Promise<NamespaceRecord[]> {
    this.lists += 1;
    this.failIfDown();
    return [...this.records.values()];
  }

  private failIfDown(): void {
    if (this.down) {
      throw new WalError(ErrorCode.storeUnavailable, "cannot reach PostgreSQL", { canRetry: true });
    }
  }
}

/** A subscription driven by hand: `notify` and `status` stand for NATS. */
interface Harness {
  source: ControlPlaneNamespaceSource;
  store: FakeStore;
  updates: NamespaceUpdate[];
  logs: Array<Record<string, unknown>>;
  notify: (change: NamespaceChanged) => void;
  status: (status: NatsStatus) => void;
  unsubscribed: () => boolean;
}

const running: ControlPlaneNamespaceSource[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((source) => source.close()));
});

async function start(store = new FakeStore(), resyncIntervalMs = 60_000): Promise<Harness> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(String(chunk)));
      done();
    },
  });
  let handlers: Parameters<SubscribeToChanges>[0] | undefined;
  let closed = false;
  const source = await ControlPlaneNamespaceSource.start(
    {
      store,
      logger: pino({ level: "info" }, sink),
      resyncIntervalMs,
      natsServer: "nats-test:4222",
    },
    (given) => {
      handlers = given;
      return {
        close: async () => {
          closed = true;
        },
      };
    },
  );
  running.push(source);
  const updates: NamespaceUpdate[] = [];
  source.onUpdate((update) => updates.push(update));
  return {
    source,
    store,
    updates,
    logs,
    notify: (change) => handlers?.onChange(change),
    status: (status) => handlers?.onStatus(status),
    unsubscribed: () => closed,
  };
}

/** Waits until `check` holds; the fake store answers at once, so a few turns suffice. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets every queued read finish: the fake store never waits on I/O. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

function keyPrefix(config: NamespaceConfig | null | undefined): string | undefined {
  const target = config?.targets.cache;
  return target?.type === "memcached" ? target.keyPrefix : undefined;
}

describe("ControlPlaneNamespaceSource", () => {
  it("serves the store's snapshot once started", async () => {
    const store = new FakeStore();
    store.put("orders", 3);
    store.put("users", 1);
    const { source } = await start(store);
    assert.equal(source.get("orders")?.version, 3);
    assert.equal(keyPrefix(source.get("orders")?.config), "v3:");
    assert.deepEqual(
      source
        .all()
        .map((live) => live.version)
        .sort(),
      [1, 3],
    );
    assert.equal(source.get("missing"), undefined);
  });

  it("refuses to start when the snapshot cannot be read, leaving nothing subscribed", async () => {
    const store = new FakeStore();
    store.down = true;
    let unsubscribed = false;
    await assert.rejects(
      ControlPlaneNamespaceSource.start(
        { store, logger: pino({ level: "silent" }), natsServer: "nats-test:4222" },
        () => ({
          close: async () => {
            unsubscribed = true;
          },
        }),
      ),
      { code: "WAL_STORE_UNAVAILABLE", message: /cannot load the namespaces.*PostgreSQL/ },
    );
    assert.ok(unsubscribed);
  });

  it("refuses a resync interval that is not a positive integer", async () => {
    await assert.rejects(start(new FakeStore(), 0), {
      code: "WAL_INVALID_CONFIG",
      field: "resyncIntervalMs",
    });
  });

  it("reads a newer version from the store, applies it, then tells the listeners", async () => {
    const h = await start();
    h.store.put("orders", 1);
    let seenThroughGet: number | undefined;
    h.source.onUpdate((update) => {
      seenThroughGet = h.source.get(update.name)?.version;
    });
    h.notify({ name: "orders", version: 1 });
    await until("the update", () => h.updates.length === 1);
    assert.deepEqual(h.updates[0], {
      name: "orders",
      version: 1,
      config: configOf("orders", "v1:"),
    });
    assert.equal(seenThroughGet, 1, "listeners run once the change is visible");
    const applied = h.logs.find((line) => line.msg === "namespace config applied");
    assert.equal(applied?.name, "orders");
    assert.equal(applied?.version, 1);
    assert.equal(typeof applied?.lag_ms, "number");
  });

  it("ignores repeated and older notifications without reading the store", async () => {
    const store = new FakeStore();
    store.put("orders", 5);
    const h = await start(store);
    for (const version of [5, 4, 1, 5]) h.notify({ name: "orders", version });
    await settle();
    assert.deepEqual(h.store.gets, []);
    assert.deepEqual(h.updates, []);
    assert.equal(h.source.get("orders")?.version, 5);
  });

  it("ignores a notification whose record is not newer than the one held", async () => {
    const store = new FakeStore();
    store.put("orders", 5);
    const h = await start(store);
    // A notification from a store that was since restored, or a forged one.
    h.notify({ name: "orders", version: 9 });
    await until("the read", () => h.store.gets.length === 1);
    await settle();
    assert.deepEqual(h.updates, []);
    assert.equal(h.source.get("orders")?.version, 5);
  });

  it("reads once for a burst of notifications of one namespace, applying the newest", async () => {
    const h = await start();
    h.store.put("orders", 4);
    for (const version of [1, 2, 3, 4]) h.notify({ name: "orders", version });
    await until("the update", () => h.source.get("orders")?.version === 4);
    await settle();
    assert.ok(h.store.gets.length <= 2, `read ${h.store.gets.length} times`);
    assert.deepEqual(
      h.updates.map((u) => u.version),
      [4],
    );
  });

  it("applies a deletion when the store no longer has the namespace, then ignores its old news", async () => {
    const store = new FakeStore();
    store.put("orders", 2);
    const h = await start(store);
    h.store.records.delete("orders");
    h.notify({ name: "orders", version: 3 });
    await until("the deletion", () => h.updates.length === 1);
    assert.deepEqual(h.updates[0], { name: "orders", version: 3, config: null });
    assert.equal(h.source.get("orders"), undefined);
    assert.deepEqual(h.source.all(), []);
    const reads = h.store.gets.length;
    h.notify({ name: "orders", version: 2 });
    h.notify({ name: "orders", version: 3 });
    await settle();
    assert.equal(h.store.gets.length, reads);
    // Re-created: a newer version again.
    h.store.put("orders", 4);
    h.notify({ name: "orders", version: 4 });
    await until("the re-creation", () => h.source.get("orders")?.version === 4);
  });

  it("does not tell listeners of a namespace it never held being deleted", async () => {
    const h = await start();
    h.notify({ name: "ghost", version: 2 });
    await until("the read", () => h.store.gets.length === 1);
    await settle();
    assert.deepEqual(h.updates, []);
  });

  it("resyncs when NATS (re)connects: applies what differs, removes what is gone", async () => {
    const store = new FakeStore();
    store.put("kept", 1);
    store.put("changed", 1);
    store.put("gone", 1);
    const h = await start(store);
    store.put("changed", 2);
    store.records.delete("gone");
    store.put("added", 1);
    h.status({ state: "disconnected", reason: "lost the server" });
    h.status({ state: "reconnected" });
    await until("the resync", () => h.updates.length === 3);
    assert.deepEqual(h.updates.map((u) => [u.name, u.version, u.config === null]).sort(), [
      ["added", 1, false],
      ["changed", 2, false],
      ["gone", 2, true],
    ]);
    assert.deepEqual(
      h.source
        .all()
        .map((live) => live.config.name)
        .sort(),
      ["added", "changed", "kept"],
    );
    assert.ok(
      h.logs.some((line) => line.level === 40 && /keeping the last good/.test(String(line.msg))),
      "a lost connection is a warning",
    );
  });

  it("resyncs on its interval, without NATS", async () => {
    const store = new FakeStore();
    store.put("orders", 1);
    const h = await start(store, 10);
    h.status({ state: "unreachable", reason: "CONNECTION_REFUSED" });
    store.put("orders", 2);
    await until("the resync", () => h.source.get("orders")?.version === 2);
    assert.deepEqual(
      h.updates.map((u) => u.version),
      [2],
    );
  });

  it("keeps the last good config while the store is unreachable, and catches up after", async () => {
    const store = new FakeStore();
    store.put("orders", 1);
    const h = await start(store);
    store.put("orders", 2);
    store.down = true;
    h.notify({ name: "orders", version: 2 });
    h.status({ state: "reconnected" });
    await until("both failed reads", () => h.store.gets.length === 1 && h.store.lists === 2);
    await settle();
    assert.equal(h.source.get("orders")?.version, 1);
    assert.deepEqual(h.updates, []);
    const warnings = h.logs.filter((line) => line.level === 40).map((line) => String(line.msg));
    assert.ok(warnings.some((msg) => /cannot read namespace 'orders' version 2/.test(msg)));
    assert.ok(warnings.some((msg) => /cannot resync.*keeping the last good configs/.test(msg)));
    store.down = false;
    h.status({ state: "reconnected" });
    await until("the catch-up", () => h.source.get("orders")?.version === 2);
  });

  it("lets the other listeners run when one throws", async () => {
    const h = await start();
    h.source.onUpdate(() => {
      throw new Error("listener bug");
    });
    const after: number[] = [];
    h.source.onUpdate((update) => after.push(update.version));
    h.store.put("orders", 1);
    h.notify({ name: "orders", version: 1 });
    await until("the later listener", () => after.length === 1);
    assert.equal(h.updates.length, 1);
    assert.ok(h.logs.some((line) => line.msg === String(line.msg) && line.level === 50));
  });

  it("stops calling a removed listener, and everything once closed", async () => {
    const h = await start(new FakeStore(), 5);
    const seen: number[] = [];
    const stop = h.source.onUpdate((update) => seen.push(update.version));
    stop();
    h.store.put("orders", 1);
    h.notify({ name: "orders", version: 1 });
    await until("the update", () => h.updates.length === 1);
    assert.deepEqual(seen, []);
    await h.source.close();
    assert.ok(h.unsubscribed());
    const lists = h.store.lists;
    h.store.put("orders", 2);
    h.notify({ name: "orders", version: 2 });
    await settle();
    assert.equal(h.store.lists, lists, "no resync after close");
    assert.equal(h.updates.length, 1);
  });
});
