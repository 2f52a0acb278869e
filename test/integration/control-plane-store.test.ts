import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PostgresNamespaceStore } from "../../services/adapters/postgres/index.ts";
import {
  ErrorCode,
  isWalError,
  type NamespaceConfig,
  type NamespaceConfigInput,
  type NamespaceConflictError,
  type NamespaceRecord,
} from "../../services/core/index.ts";
import { createLogger } from "../../services/observability/index.ts";
import { memcachedNamespace as configOf } from "../support/namespaces.ts";
import { createSchema } from "../support/postgres.ts";
import { uniqueName } from "../support/servers.ts";

const logger = createLogger("control-plane-store-test", "silent");

function keyPrefixOf(config: NamespaceConfig | null): string | undefined {
  const target = config?.targets.cache;
  return target?.type === "memcached" ? target.keyPrefix : undefined;
}

const alice = { actor: "alice" };

describe("PostgreSQL namespace store", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let store: PostgresNamespaceStore;
  let firstMigrations: string[];

  before(async () => {
    schema = await createSchema("cp_store");
    const opened = await PostgresNamespaceStore.open(schema.url, logger);
    store = opened.store;
    firstMigrations = opened.migrated.map((m) => m.name);
  });

  after(async () => {
    await store.close();
    await schema.drop();
  });

  it("applies the migrations once: applying them again changes nothing", async () => {
    assert.deepEqual(firstMigrations, [
      "0001_namespaces.sql",
      "0002_dead_letter_redrives.sql",
      "0003_schema_registry.sql",
    ]);
    const snapshot = () =>
      Promise.all([
        schema.query("SELECT version, name, checksum, applied_at FROM schema_migrations"),
        schema.query(
          "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2",
        ),
      ]);
    const before = await snapshot();
    const again = await PostgresNamespaceStore.open(schema.url, logger);
    await again.store.close();
    assert.deepEqual(again.migrated, []);
    assert.deepEqual(await snapshot(), before);
  });

  it("applies each migration once when control planes start together", async () => {
    const fresh = await createSchema("cp_store");
    try {
      const opened = await Promise.all(
        [1, 2, 3].map(() => PostgresNamespaceStore.open(fresh.url, logger)),
      );
      await Promise.all(opened.map((o) => o.store.close()));
      assert.deepEqual(opened.map((o) => o.migrated.length).sort(), [0, 0, 3]);
      assert.equal((await fresh.query("SELECT * FROM schema_migrations")).length, 3);
    } finally {
      await fresh.drop();
    }
  });

  it("creates at version 1 with defaults filled, then gets and lists it", async () => {
    const name = uniqueName("create");
    const created = await store.create(configOf(name), alice);
    assert.equal(created.name, name);
    assert.equal(created.version, 1);
    assert.equal(created.config.partitions, 6, "defaults are stored filled");
    assert.equal(created.config.delivery.maxConcurrentKeys, 64);
    assert.ok(!Number.isNaN(Date.parse(created.createdAt)));
    assert.deepEqual(await store.get(name), created);
    const listed = await store.list();
    assert.deepEqual(
      listed.find((r) => r.name === name),
      created,
    );
    const names = listed.map((r) => r.name);
    assert.deepEqual(names, [...names].sort(), "listed by name");
  });

  it("refuses to create a namespace that exists, even when two creations race", async () => {
    const name = uniqueName("exists");
    const raced = await Promise.allSettled([
      store.create(configOf(name, "a:"), alice),
      store.create(configOf(name, "b:"), alice),
    ]);
    assert.equal(raced.filter((r) => r.status === "fulfilled").length, 1);
    const refused = raced.find((r) => r.status === "rejected");
    assert.equal(refused?.reason.code, ErrorCode.namespaceExists);
    await assert.rejects(store.create(configOf(name), alice), {
      code: "WAL_NAMESPACE_EXISTS",
      field: "name",
    });
    assert.equal((await store.history(name)).length, 1);
  });

  it("refuses an invalid config with WAL_INVALID_CONFIG naming the field, storing nothing", async () => {
    const name = uniqueName("invalid");
    const cases: Array<[NamespaceConfigInput, string]> = [
      [{ ...configOf(name), partitions: 0 }, "partitions"],
      [{ ...configOf(name), defaultTarget: "nope" }, "defaultTarget"],
      [{ ...configOf(name), limits: { maxKeyBytes: -1 } }, "limits.maxKeyBytes"],
      [
        { name, targets: { cache: { type: "memcached" } }, defaultTarget: "cache" } as never,
        "targets.cache.servers",
      ],
    ];
    for (const [config, field] of cases) {
      await assert.rejects(store.create(config, alice), { code: "WAL_INVALID_CONFIG", field });
    }
    await assert.rejects(store.get(name), { code: "WAL_NAMESPACE_NOT_FOUND" });
    await assert.rejects(store.history(name), { code: "WAL_NAMESPACE_NOT_FOUND" });

    await store.create(configOf(name), alice);
    await assert.rejects(store.update(name, { ...configOf(name), partitions: 0 }, 1, alice), {
      code: "WAL_INVALID_CONFIG",
      field: "partitions",
    });
    await assert.rejects(store.update(name, configOf(uniqueName("renamed")), 1, alice), {
      code: "WAL_INVALID_CONFIG",
      field: "name",
    });
    assert.equal((await store.get(name)).version, 1);
    assert.equal((await store.history(name)).length, 1);
  });

  it("lets exactly one of concurrent updates from the same version win; the others get the current version", async () => {
    const name = uniqueName("race");
    await store.create(configOf(name), alice);
    const prefixes = ["a:", "b:", "c:", "d:", "e:"];
    const outcomes = await Promise.allSettled(
      prefixes.map((p) => store.update(name, configOf(name, p), 1, { actor: p })),
    );
    const won = outcomes.filter(
      (o): o is PromiseFulfilledResult<NamespaceRecord> => o.status === "fulfilled",
    );
    assert.equal(won.length, 1, JSON.stringify(outcomes));
    const winner = won[0]?.value as NamespaceRecord;
    assert.equal(winner.version, 2);
    for (const lost of outcomes.filter((o) => o.status === "rejected")) {
      const error = lost.reason as NamespaceConflictError;
      assert.equal(error.code, "WAL_NAMESPACE_CONFLICT");
      assert.equal(error.field, "expectedVersion");
      assert.equal(error.currentVersion, 2);
    }
    assert.deepEqual(await store.get(name), winner);
    assert.equal((await store.history(name)).length, 2);
  });

  it("refuses changes from a stale version and changes of an unknown namespace", async () => {
    const name = uniqueName("stale");
    await store.create(configOf(name), alice);
    await store.update(name, configOf(name, "x:"), 1, alice);
    const conflict = { code: "WAL_NAMESPACE_CONFLICT", currentVersion: 2 };
    await assert.rejects(store.update(name, configOf(name), 1, alice), conflict);
    await assert.rejects(store.delete(name, 1, alice), conflict);
    await assert.rejects(store.rollback(name, 1, 1, alice), conflict);
    const missing = uniqueName("missing");
    const notFound = { code: "WAL_NAMESPACE_NOT_FOUND", field: "name" };
    await assert.rejects(store.update(missing, configOf(missing), 1, alice), notFound);
    await assert.rejects(store.delete(missing, 1, alice), notFound);
    await assert.rejects(store.rollback(missing, 1, 1, alice), notFound);
    assert.equal((await store.get(name)).version, 2);
  });

  it("records every change in the history with its actor, before and after", async () => {
    const name = uniqueName("history");
    await store.create(configOf(name, "1:"), { actor: "alice" });
    await store.update(name, configOf(name, "2:"), 1, { actor: "bob" });
    await store.update(name, configOf(name, "3:"), 2, { actor: "carol" });
    const history = await store.history(name);
    assert.deepEqual(
      history.map((c) => [c.namespace, c.version, c.action, c.actor]),
      [
        [name, 1, "create", "alice"],
        [name, 2, "update", "bob"],
        [name, 3, "update", "carol"],
      ],
    );
    assert.equal(history[0]?.before, null);
    assert.deepEqual(
      history.map((c) => keyPrefixOf(c.after)),
      ["1:", "2:", "3:"],
    );
    for (let i = 1; i < history.length; i += 1) {
      assert.deepEqual(history[i]?.before, history[i - 1]?.after, `before of version ${i + 1}`);
    }
    for (const change of history) assert.ok(!Number.isNaN(Date.parse(change.at)));
  });

  it("rolls back by storing an earlier config as a new version, keeping the whole history", async () => {
    const name = uniqueName("rollback");
    const first = await store.create(configOf(name, "1:"), alice);
    const second = await store.update(name, configOf(name, "2:"), 1, alice);
    const rolledBack = await store.rollback(name, 1, 2, { actor: "dave" });
    assert.equal(rolledBack.version, 3);
    assert.deepEqual(rolledBack.config, first.config);
    assert.deepEqual(await store.get(name), rolledBack);
    const history = await store.history(name);
    assert.deepEqual(
      history.map((c) => c.action),
      ["create", "update", "rollback"],
    );
    const rollback = history[2];
    assert.equal(rollback?.rolledBackTo, 1);
    assert.equal(rollback?.actor, "dave");
    assert.deepEqual(rollback?.before, second.config);
    assert.deepEqual(rollback?.after, first.config);

    await assert.rejects(store.rollback(name, 9, 3, alice), {
      code: "WAL_INVALID_ARGUMENT",
      field: "toVersion",
      message: /has no version 9/,
    });
    assert.equal((await store.history(name)).length, 3);
  });

  it("deletes a namespace but keeps its history; re-creating it continues the versions", async () => {
    const name = uniqueName("delete");
    const created = await store.create(configOf(name, "1:"), alice);
    const deletion = await store.delete(name, 1, { actor: "erin" });
    assert.deepEqual(
      [deletion.version, deletion.action, deletion.actor, deletion.after],
      [2, "delete", "erin", null],
    );
    assert.deepEqual(deletion.before, created.config);
    await assert.rejects(store.get(name), {
      code: "WAL_NAMESPACE_NOT_FOUND",
      message: /was deleted \(version 2\)/,
    });
    assert.ok(!(await store.list()).some((r) => r.name === name));
    await assert.rejects(store.update(name, configOf(name), 2, alice), {
      code: "WAL_NAMESPACE_NOT_FOUND",
    });
    assert.deepEqual(
      (await store.history(name)).map((c) => c.action),
      ["create", "delete"],
    );

    const recreated = await store.create(configOf(name, "3:"), alice);
    assert.equal(recreated.version, 3);
    await assert.rejects(store.rollback(name, 2, 3, alice), {
      code: "WAL_INVALID_ARGUMENT",
      field: "toVersion",
      message: /deleted at version 2/,
    });
    const restored = await store.rollback(name, 1, 3, alice);
    assert.deepEqual(restored.config, created.config);
    assert.deepEqual(
      (await store.history(name)).map((c) => [c.version, c.action, c.before === null]),
      [
        [1, "create", true],
        [2, "delete", false],
        [3, "create", true],
        [4, "rollback", false],
      ],
    );
  });

  it("dry-runs a create or an update: answers what would be stored, stores nothing", async () => {
    const name = uniqueName("dry");
    const wouldCreate = await store.create(configOf(name), { ...alice, dryRun: true });
    assert.equal(wouldCreate.version, 1);
    assert.equal(wouldCreate.config.partitions, 6);
    await assert.rejects(store.get(name), { code: "WAL_NAMESPACE_NOT_FOUND" });
    await assert.rejects(store.history(name), { code: "WAL_NAMESPACE_NOT_FOUND" });

    const created = await store.create(configOf(name), alice);
    const wouldUpdate = await store.update(name, configOf(name, "new:"), 1, {
      ...alice,
      dryRun: true,
    });
    assert.equal(wouldUpdate.version, 2);
    assert.equal(keyPrefixOf(wouldUpdate.config), "new:");
    assert.deepEqual(await store.get(name), created);
    assert.equal((await store.history(name)).length, 1);

    const dryRun = { ...alice, dryRun: true };
    await assert.rejects(store.update(name, configOf(name), 7, dryRun), {
      code: "WAL_NAMESPACE_CONFLICT",
      currentVersion: 1,
    });
    await assert.rejects(store.create(configOf(name), dryRun), { code: "WAL_NAMESPACE_EXISTS" });
    await assert.rejects(store.create({ ...configOf(name), partitions: 0 }, dryRun), {
      code: "WAL_INVALID_CONFIG",
      field: "partitions",
    });
  });
});

describe("PostgresNamespaceStore.openForReading", () => {
  it("refuses a database the control plane has not set up, then reads one it has", async () => {
    const fresh = await createSchema("cp_read");
    try {
      await assert.rejects(
        PostgresNamespaceStore.openForReading(fresh.url, logger),
        (error: unknown) =>
          isWalError(error) &&
          error.code === ErrorCode.storeUnavailable &&
          /wal control-plane/.test(error.message),
      );
      const { store } = await PostgresNamespaceStore.open(fresh.url, logger);
      await store.close();
      const reader = await PostgresNamespaceStore.openForReading(fresh.url, logger);
      assert.deepEqual(await reader.list(), []);
      await reader.close();
    } finally {
      await fresh.drop();
    }
  });
});
