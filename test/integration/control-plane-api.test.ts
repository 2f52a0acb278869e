import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PostgresNamespaceStore } from "../../services/adapters/postgres/index.ts";
import {
  type ErrorBody,
  type RunningControlPlaneApi,
  startControlPlaneApi,
} from "../../services/control-plane/index.ts";
import type { NamespaceChange, NamespaceRecord } from "../../services/core/index.ts";
import { createLogger } from "../../services/observability/index.ts";
import { memcachedNamespace as configOf } from "../support/namespaces.ts";
import { createSchema } from "../support/postgres.ts";
import { uniqueName } from "../support/servers.ts";

const logger = createLogger("control-plane-api-test", "silent");
const adminToken = "test-admin-token-0123456789";

interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

interface CallOptions {
  body?: unknown;
  /** Raw Authorization header; the admin token by default, null to send none. */
  authorization?: string | null;
  actor?: string;
}

describe("control plane HTTP API", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let store: PostgresNamespaceStore;
  let api: RunningControlPlaneApi;

  async function call<T = ErrorBody>(
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    const authorization =
      options.authorization === undefined ? `Bearer ${adminToken}` : options.authorization;
    if (authorization !== null) headers.authorization = authorization;
    if (options.actor !== undefined) headers["x-wal-actor"] = options.actor;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(`http://127.0.0.1:${api.port}${path}`, { method, headers, body });
    return {
      status: response.status,
      body: (await response.json()) as T,
      headers: response.headers,
    };
  }

  before(async () => {
    schema = await createSchema("cp_api");
    ({ store } = await PostgresNamespaceStore.open(schema.url, logger));
    api = await startControlPlaneApi({
      store,
      access: { adminToken },
      host: "127.0.0.1",
      port: 0,
      logger,
    });
  });

  after(async () => {
    await api.stop();
    await store.close();
    await schema.drop();
  });

  it("answers 401 without the admin token, on every route, and changes nothing", async () => {
    const name = uniqueName("auth");
    const refused = [
      null,
      "",
      "Bearer",
      "Bearer wrong-token",
      `Basic ${adminToken}`,
      adminToken,
      `Bearer ${adminToken}x`,
    ];
    const routes: Array<[string, string, unknown]> = [
      ["GET", "/v1/namespaces", undefined],
      ["GET", `/v1/namespaces/${name}`, undefined],
      ["POST", "/v1/namespaces", configOf(name)],
      ["POST", "/v1/namespaces?dryRun=true", configOf(name)],
      ["PUT", `/v1/namespaces/${name}`, { config: configOf(name), expectedVersion: 1 }],
      ["DELETE", `/v1/namespaces/${name}?expectedVersion=1`, undefined],
      ["GET", `/v1/namespaces/${name}/history`, undefined],
      ["POST", `/v1/namespaces/${name}/rollback`, { toVersion: 1, expectedVersion: 1 }],
    ];
    for (const [method, path, body] of routes) {
      for (const authorization of refused) {
        const answer = await call(method, path, { body, authorization });
        const what = `${method} ${path} with ${JSON.stringify(authorization)}`;
        assert.equal(answer.status, 401, what);
        assert.equal(answer.body.code, "WAL_UNAUTHORIZED", what);
        assert.equal(answer.body.field, "Authorization");
        assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
    }
    assert.equal((await call(`GET`, `/v1/namespaces/${name}`)).status, 404, "nothing was created");
  });

  it("creates, reads, updates and deletes with the statuses and codes of the API", async () => {
    const name = uniqueName("crud");
    const created = await call<NamespaceRecord>("POST", "/v1/namespaces", {
      body: configOf(name),
      actor: "alice",
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("location"), `/v1/namespaces/${name}`);
    assert.equal(created.body.version, 1);
    assert.equal(created.body.config.partitions, 6);

    const again = await call("POST", "/v1/namespaces", { body: configOf(name) });
    assert.equal(again.status, 409);
    assert.deepEqual([again.body.code, again.body.field], ["WAL_NAMESPACE_EXISTS", "name"]);

    const got = await call<NamespaceRecord>("GET", `/v1/namespaces/${name}`);
    assert.deepEqual([got.status, got.body], [200, created.body]);
    const listed = await call<{ namespaces: NamespaceRecord[] }>("GET", "/v1/namespaces");
    assert.deepEqual(
      listed.body.namespaces.find((r) => r.name === name),
      created.body,
    );

    const updated = await call<NamespaceRecord>("PUT", `/v1/namespaces/${name}`, {
      body: { config: configOf(name, "v2:"), expectedVersion: 1 },
      actor: "bob",
    });
    assert.deepEqual([updated.status, updated.body.version], [200, 2]);

    const stale = await call("PUT", `/v1/namespaces/${name}`, {
      body: { config: configOf(name, "v3:"), expectedVersion: 1 },
    });
    assert.equal(stale.status, 409);
    assert.deepEqual(
      [stale.body.code, stale.body.field, stale.body.currentVersion],
      ["WAL_NAMESPACE_CONFLICT", "expectedVersion", 2],
    );
    const staleDelete = await call("DELETE", `/v1/namespaces/${name}?expectedVersion=1`);
    assert.deepEqual([staleDelete.status, staleDelete.body.currentVersion], [409, 2]);

    const deleted = await call<NamespaceChange>(
      "DELETE",
      `/v1/namespaces/${name}?expectedVersion=2`,
    );
    assert.equal(deleted.status, 200);
    assert.deepEqual([deleted.body.version, deleted.body.action], [3, "delete"]);
    assert.equal(deleted.body.actor, "admin", "the actor defaults to admin");

    const gone = await call("GET", `/v1/namespaces/${name}`);
    assert.deepEqual([gone.status, gone.body.code], [404, "WAL_NAMESPACE_NOT_FOUND"]);
    const history = await call<{ changes: NamespaceChange[] }>(
      "GET",
      `/v1/namespaces/${name}/history`,
    );
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.changes.map((c) => [c.version, c.action, c.actor]),
      [
        [1, "create", "alice"],
        [2, "update", "bob"],
        [3, "delete", "admin"],
      ],
    );
    assert.equal((await call("GET", `/v1/namespaces/${uniqueName("none")}/history`)).status, 404);
  });

  it("answers an invalid config 400 naming the field, and stores nothing", async () => {
    const name = uniqueName("invalid");
    const answer = await call("POST", "/v1/namespaces", {
      body: { ...configOf(name), defaultTarget: "nope" },
    });
    assert.equal(answer.status, 400);
    assert.deepEqual(
      [answer.body.code, answer.body.field],
      ["WAL_INVALID_CONFIG", "defaultTarget"],
    );
    assert.match(answer.body.message, /must name one of the namespace's targets/);
    assert.equal((await call("GET", `/v1/namespaces/${name}`)).status, 404);

    await call("POST", "/v1/namespaces", { body: configOf(name) });
    const update = await call("PUT", `/v1/namespaces/${name}`, {
      body: { config: { ...configOf(name), partitions: 0 }, expectedVersion: 1 },
    });
    assert.deepEqual(
      [update.status, update.body.code, update.body.field],
      [400, "WAL_INVALID_CONFIG", "partitions"],
    );
    assert.equal((await call<NamespaceRecord>("GET", `/v1/namespaces/${name}`)).body.version, 1);
  });

  it("answers a malformed request 400 naming what is wrong", async () => {
    const name = uniqueName("malformed");
    await call("POST", "/v1/namespaces", { body: configOf(name) });
    const cases: Array<[string, string, CallOptions, string]> = [
      ["PUT", `/v1/namespaces/${name}`, { body: { config: configOf(name) } }, "expectedVersion"],
      ["PUT", `/v1/namespaces/${name}`, { body: { expectedVersion: 1 } }, "config"],
      ["PUT", `/v1/namespaces/${name}`, { body: configOf(name) }, "config"],
      ["DELETE", `/v1/namespaces/${name}`, {}, "expectedVersion"],
      ["DELETE", `/v1/namespaces/${name}?expectedVersion=0`, {}, "expectedVersion"],
      ["DELETE", `/v1/namespaces/${name}?expectedVersion=one`, {}, "expectedVersion"],
      ["POST", `/v1/namespaces/${name}/rollback`, { body: { toVersion: 1 } }, "expectedVersion"],
      ["POST", "/v1/namespaces?dry-run=true", { body: configOf(name) }, "dry-run"],
      ["POST", "/v1/namespaces", { body: "{not json" }, "body"],
      [
        "PUT",
        `/v1/namespaces/${name}`,
        { body: { config: configOf(name), expectedVersion: 1 }, actor: "a".repeat(201) },
        "X-WAL-Actor",
      ],
    ];
    for (const [method, path, options, field] of cases) {
      const answer = await call(method, path, options);
      const what = `${method} ${path} ${JSON.stringify(options.body)}`;
      assert.equal(answer.status, 400, what);
      assert.equal(answer.body.code, "WAL_INVALID_ARGUMENT", what);
      assert.equal(answer.body.field, field, what);
    }
    const history = await call<{ changes: NamespaceChange[] }>(
      "GET",
      `/v1/namespaces/${name}/history`,
    );
    assert.equal(history.body.changes.length, 1, "nothing changed");
  });

  it("dry-runs a create and an update: 200 with what would be stored, nothing stored", async () => {
    const name = uniqueName("dry");
    const wouldCreate = await call<NamespaceRecord & { dryRun: boolean }>(
      "POST",
      "/v1/namespaces?dryRun=true",
      { body: configOf(name) },
    );
    assert.equal(wouldCreate.status, 200);
    assert.deepEqual(
      [wouldCreate.body.dryRun, wouldCreate.body.version, wouldCreate.body.config.partitions],
      [true, 1, 6],
    );
    assert.equal((await call("GET", `/v1/namespaces/${name}`)).status, 404);

    await call("POST", "/v1/namespaces", { body: configOf(name) });
    const wouldUpdate = await call<NamespaceRecord & { dryRun: boolean }>(
      "PUT",
      `/v1/namespaces/${name}?dryRun=true`,
      { body: { config: configOf(name, "new:"), expectedVersion: 1 } },
    );
    assert.deepEqual([wouldUpdate.status, wouldUpdate.body.version], [200, 2]);
    const invalid = await call("POST", "/v1/namespaces?dryRun=true", {
      body: { ...configOf(uniqueName("dry")), partitions: 0 },
    });
    assert.deepEqual([invalid.status, invalid.body.field], [400, "partitions"]);
    const history = await call<{ changes: NamespaceChange[] }>(
      "GET",
      `/v1/namespaces/${name}/history`,
    );
    assert.equal(history.body.changes.length, 1);
    assert.equal((await call<NamespaceRecord>("GET", `/v1/namespaces/${name}`)).body.version, 1);
  });

  it("rolls back to an earlier version as a new version", async () => {
    const name = uniqueName("rollback");
    const first = await call<NamespaceRecord>("POST", "/v1/namespaces", {
      body: configOf(name, "1:"),
    });
    await call("PUT", `/v1/namespaces/${name}`, {
      body: { config: configOf(name, "2:"), expectedVersion: 1 },
    });
    const rolledBack = await call<NamespaceRecord>("POST", `/v1/namespaces/${name}/rollback`, {
      body: { toVersion: 1, expectedVersion: 2 },
      actor: "carol",
    });
    assert.deepEqual([rolledBack.status, rolledBack.body.version], [200, 3]);
    assert.deepEqual(rolledBack.body.config, first.body.config);
    const unknownVersion = await call("POST", `/v1/namespaces/${name}/rollback`, {
      body: { toVersion: 8, expectedVersion: 3 },
    });
    assert.deepEqual([unknownVersion.status, unknownVersion.body.field], [400, "toVersion"]);
    const history = await call<{ changes: NamespaceChange[] }>(
      "GET",
      `/v1/namespaces/${name}/history`,
    );
    assert.deepEqual(
      history.body.changes.map((c) => [c.action, c.actor, c.rolledBackTo]),
      [
        ["create", "admin", null],
        ["update", "admin", null],
        ["rollback", "carol", 1],
      ],
    );
  });

  it("lets one of concurrent updates from the same version win; the others get 409 with the current version", async () => {
    const name = uniqueName("race");
    await call("POST", "/v1/namespaces", { body: configOf(name) });
    const answers = await Promise.all(
      ["a:", "b:", "c:", "d:"].map((prefix) =>
        call("PUT", `/v1/namespaces/${name}`, {
          body: { config: configOf(name, prefix), expectedVersion: 1 },
        }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409]);
    for (const lost of answers.filter((a) => a.status === 409)) {
      assert.equal(lost.body.currentVersion, 2);
    }
  });

  it("serves without a credential only when started with insecure-no-auth", async () => {
    const open = await startControlPlaneApi({
      store,
      access: "insecure-no-auth",
      host: "127.0.0.1",
      port: 0,
      logger,
    });
    try {
      const response = await fetch(`http://127.0.0.1:${open.port}/v1/namespaces`);
      assert.equal(response.status, 200);
    } finally {
      await open.stop();
    }
  });
});
