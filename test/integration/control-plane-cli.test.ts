import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NamespaceChange, NamespaceRecord } from "../../services/core/index.ts";
import { memcachedNamespace as configOf } from "../support/namespaces.ts";
import { createSchema } from "../support/postgres.ts";
import { freePort, uniqueName } from "../support/servers.ts";
import { WalProcess, runWal as wal } from "../support/wal-process.ts";

const adminToken = "cli-test-admin-token-0123456789";

describe("wal control-plane and wal namespaces", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let controlPlane: WalProcess;
  let clientEnv: Record<string, string | undefined>;
  let dir: string;

  /** Runs `wal namespaces …` against the control plane and parses its JSON answer. */
  async function namespaces<T>(args: string[], stdin = ""): Promise<T> {
    const run = await wal(["namespaces", ...args], clientEnv, stdin);
    assert.equal(run.code, 0, `wal namespaces ${args.join(" ")}: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  }

  /** Runs `wal namespaces …` that must fail: exit code non-zero, stderr naming the code. */
  async function refused(args: string[], code: string, env = clientEnv): Promise<string> {
    const run = await wal(["namespaces", ...args], env);
    assert.notEqual(run.code, 0, `wal namespaces ${args.join(" ")} should fail`);
    assert.match(run.stderr, new RegExp(`^wal: ${code}: `), run.stderr);
    assert.equal(run.stdout, "");
    return run.stderr;
  }

  async function configFile(config: unknown): Promise<string> {
    const path = join(dir, `${uniqueName("config")}.json`);
    await writeFile(path, typeof config === "string" ? config : JSON.stringify(config));
    return path;
  }

  before(async () => {
    schema = await createSchema("cp_cli");
    dir = await mkdtemp(join(tmpdir(), "wal-control-plane-"));
    controlPlane = WalProcess.start(["control-plane", "--port", "0"], {
      WAL_DATABASE_URL: schema.url,
      WAL_ADMIN_TOKEN: adminToken,
    });
    const serving = await controlPlane.waitForLine((l) => l.msg === "control plane serving");
    clientEnv = {
      WAL_CONTROL_PLANE_URL: `http://${serving.http as string}`,
      WAL_ADMIN_TOKEN: adminToken,
      WAL_ACTOR: "cli-test",
    };
  });

  after(async () => {
    const exitCode = await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
    await schema.drop();
    assert.equal(exitCode, 0, "SIGTERM stops the control plane gracefully");
    assert.ok(controlPlane.lines.some((l) => l.msg === "control plane stopped"));
  });

  it("serves with its migrations applied at start", () => {
    const serving = controlPlane.lines.find((l) => l.msg === "control plane serving");
    assert.deepEqual(serving?.migrationsApplied, [
      "0001_namespaces.sql",
      "0002_dead_letter_redrives.sql",
      "0003_schema_registry.sql",
    ]);
  });

  it("refuses to start without an admin token unless --insecure-no-auth is given", async () => {
    const env = { WAL_DATABASE_URL: schema.url, WAL_ADMIN_TOKEN: undefined };
    const run = await wal(["control-plane", "--port", "0"], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /needs an admin token: set WAL_ADMIN_TOKEN/);
    const short = await wal(["control-plane", "--port", "0", "--admin-token", "short"], env);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--admin-token \(WAL_ADMIN_TOKEN\) is invalid: must be at least 16/);
    assert.doesNotMatch(short.stderr, /'short'/, "the token is never echoed");

    const insecure = WalProcess.start(["control-plane", "--port", "0", "--insecure-no-auth"], {
      WAL_DATABASE_URL: schema.url,
      WAL_ADMIN_TOKEN: "",
    });
    const serving = await insecure.waitForLine((l) => l.msg === "control plane serving");
    assert.ok(
      insecure.lines.some((l) => l.level === "warn" && /WITHOUT authentication/.test(l.msg)),
    );
    const listed = await wal(["namespaces", "list"], {
      WAL_CONTROL_PLANE_URL: `http://${serving.http as string}`,
      WAL_ADMIN_TOKEN: undefined,
    });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(await insecure.stop(), 0);
  });

  it("creates, reads, updates, rolls back and deletes a namespace, each change in the history", async () => {
    const name = uniqueName("cli");
    const first = await configFile(configOf(name, "1:"));
    const second = await configFile(configOf(name, "2:"));

    const dryRun = await namespaces<NamespaceRecord & { dryRun: boolean }>([
      "create",
      "--file",
      first,
      "--dry-run",
    ]);
    assert.deepEqual([dryRun.dryRun, dryRun.version], [true, 1]);
    await refused(["get", name], "WAL_NAMESPACE_NOT_FOUND");

    const created = await namespaces<NamespaceRecord>(["create", "--file", first]);
    assert.deepEqual([created.name, created.version, created.config.partitions], [name, 1, 6]);
    await refused(["create", "--file", first], "WAL_NAMESPACE_EXISTS");
    assert.deepEqual(await namespaces(["get", name]), created);
    const listed = await namespaces<NamespaceRecord[]>(["list"]);
    assert.ok(listed.some((r) => r.name === name));

    const wouldUpdate = await namespaces<NamespaceRecord & { dryRun: boolean }>([
      "update",
      name,
      "--file",
      second,
      "--expected-version",
      "1",
      "--dry-run",
    ]);
    assert.deepEqual([wouldUpdate.dryRun, wouldUpdate.version], [true, 2]);
    const updated = await namespaces<NamespaceRecord>([
      "update",
      name,
      "--file",
      second,
      "--expected-version",
      "1",
    ]);
    assert.equal(updated.version, 2);
    const conflict = await refused(
      ["update", name, "--file", first, "--expected-version", "1"],
      "WAL_NAMESPACE_CONFLICT",
    );
    assert.match(conflict, /is at version 2, not 1/);

    const rolledBack = await namespaces<NamespaceRecord>([
      "rollback",
      name,
      "--to-version",
      "1",
      "--expected-version",
      "2",
    ]);
    assert.equal(rolledBack.version, 3);
    assert.deepEqual(rolledBack.config, created.config);

    await refused(["delete", name, "--expected-version", "2"], "WAL_NAMESPACE_CONFLICT");
    const deletion = await namespaces<NamespaceChange>(["delete", name, "--expected-version", "3"]);
    assert.deepEqual([deletion.version, deletion.action], [4, "delete"]);
    await refused(["get", name], "WAL_NAMESPACE_NOT_FOUND");

    const history = await namespaces<NamespaceChange[]>(["history", name]);
    assert.deepEqual(
      history.map((c) => [c.version, c.action, c.actor]),
      [
        [1, "create", "cli-test"],
        [2, "update", "cli-test"],
        [3, "rollback", "cli-test"],
        [4, "delete", "cli-test"],
      ],
    );
  });

  it("reads a config from stdin with --file -", async () => {
    const name = uniqueName("stdin");
    const created = await namespaces<NamespaceRecord>(
      ["create", "--file", "-"],
      JSON.stringify(configOf(name)),
    );
    assert.equal(created.name, name);
  });

  it("prints the code and message of every failure and exits non-zero", async () => {
    const name = uniqueName("fail");
    const invalid = await refused(
      ["create", "--file", await configFile({ ...configOf(name), partitions: 0 })],
      "WAL_INVALID_CONFIG",
    );
    assert.match(invalid, /partitions/);
    const nobodyListens = `http://127.0.0.1:${await freePort()}`;
    const [unreachable] = await Promise.all([
      refused(["list"], "WAL_CONTROL_PLANE_UNAVAILABLE", {
        ...clientEnv,
        WAL_CONTROL_PLANE_URL: nobodyListens,
      }),
      refused(["get", name], "WAL_NAMESPACE_NOT_FOUND"),
      refused(["create", "--file", await configFile("{ not json")], "WAL_INVALID_ARGUMENT"),
      refused(["create", "--file", join(dir, "missing.json")], "WAL_INVALID_ARGUMENT"),
      refused(["delete", name, "--expected-version", "latest"], "WAL_INVALID_ARGUMENT"),
      refused(["list"], "WAL_UNAUTHORIZED", { ...clientEnv, WAL_ADMIN_TOKEN: "wrong-token" }),
      refused(["list"], "WAL_UNAUTHORIZED", { ...clientEnv, WAL_ADMIN_TOKEN: undefined }),
    ]);
    assert.match(unreachable, /ECONNREFUSED.*start one with 'wal control-plane'/);
  });

  it("has --help on every subcommand", async () => {
    const commands = [
      ["control-plane"],
      ["namespaces"],
      ...["list", "get", "create", "update", "delete", "history", "rollback"].map((c) => [
        "namespaces",
        c,
      ]),
    ];
    const runs = await Promise.all(commands.map((c) => wal([...c, "--help"], {})));
    for (const [i, run] of runs.entries()) {
      const command = (commands[i] as string[]).join(" ");
      assert.equal(run.code, 0, command);
      assert.match(run.stdout, new RegExp(`^Usage: wal ${command} `), command);
    }
  });
});
