import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { RegistryHttp } from "../../services/adapters/schema-registry/index.ts";
import { registryAdminToken, startRegistry } from "../support/registry.ts";
import { runWal } from "../support/wal-process.ts";

const run = promisify(execFile);

const order = (fields: unknown[]) => JSON.stringify({ type: "record", name: "Order", fields });
const v1 = [
  { name: "id", type: "string" },
  { name: "total", type: "int" },
];

/** A git repository with schemas/avro/ committed on main, removed after the test. */
async function repository(levels: unknown) {
  const dir = await mkdtemp(join(tmpdir(), "wal-schema-"));
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=wal-test", "-c", "user.email=wal-test@localhost", ...args], {
      cwd: dir,
    });
  await git("init", "--quiet", "--initial-branch=main");
  await mkdir(join(dir, "schemas/avro"), { recursive: true });
  await writeFile(join(dir, "schemas/avro/compatibility.json"), JSON.stringify(levels));
  await writeFile(join(dir, "schemas/avro/order.avsc"), order(v1));
  await git("add", ".");
  await git("commit", "--quiet", "-m", "v1");
  const check = (args: string[] = []) => runWal(["schema", "check", "--dir", dir, ...args], {});
  return { dir, git, check, remove: () => rm(dir, { recursive: true, force: true }) };
}

describe("wal schema check", () => {
  it("passes a compatible change and explains an incompatible one, by field and rule", async (t) => {
    const repo = await repository({ default: "BACKWARD", schemas: {} });
    t.after(repo.remove);
    await repo.git("checkout", "--quiet", "-b", "change");

    const withDefault = [...v1, { name: "currency", type: "string", default: "EUR" }];
    await writeFile(join(repo.dir, "schemas/avro/order.avsc"), order(withDefault));
    const ok = await repo.check();
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok {6}schemas\/avro\/order\.avsc \(BACKWARD against [0-9a-f]{10}\)/m);

    const withoutDefault = [...v1, { name: "currency", type: "string" }];
    await writeFile(join(repo.dir, "schemas/avro/order.avsc"), order(withoutDefault));
    const broken = await repo.check();
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN {2}schemas\/avro\/order\.avsc \(BACKWARD/);
    assert.match(broken.stdout, /new schema must read data written with .*\(backward\).*currency/);

    const typeChanged = [v1[0], { name: "total", type: "string" }];
    await writeFile(join(repo.dir, "schemas/avro/order.avsc"), order(typeChanged));
    const changed = await repo.check();
    assert.equal(changed.code, 1);
    assert.match(changed.stdout, /cannot read "int" as "string"/);
  });

  it("refuses a removed field under FULL, checks every version when transitive, and a removed schema", async (t) => {
    const repo = await repository({ default: "FULL_TRANSITIVE", schemas: {} });
    t.after(repo.remove);
    // v2 adds a field with a default: fine both ways against v1.
    await writeFile(
      join(repo.dir, "schemas/avro/order.avsc"),
      order([...v1, { name: "note", type: "string", default: "" }]),
    );
    await repo.git("commit", "--quiet", "-am", "v2");

    const removed = [v1[0], { name: "note", type: "string", default: "" }];
    await writeFile(join(repo.dir, "schemas/avro/order.avsc"), order(removed));
    const full = await repo.check();
    assert.equal(full.code, 1);
    assert.match(
      full.stdout,
      /readers of .* must read data written with the new schema \(forward\).*total/,
    );
    assert.equal(
      full.stdout.split("\n").filter((l) => l.includes("(forward)")).length,
      2,
      "against v1 and v2: transitive",
    );

    await rm(join(repo.dir, "schemas/avro/order.avsc"));
    const gone = await repo.check();
    assert.equal(gone.code, 1);
    assert.match(
      gone.stdout,
      /order\.avsc was removed since .*restore it, or set its level to NONE/,
    );
  });

  it("says so when there is no history to compare with, and names a bad level", async (t) => {
    const repo = await repository({ default: "BACKWARD", schemas: {} });
    t.after(repo.remove);
    const first = await repo.check();
    assert.equal(first.code, 0);
    assert.match(first.stdout, /no earlier commit to compare with/);

    await writeFile(
      join(repo.dir, "schemas/avro/compatibility.json"),
      JSON.stringify({ default: "SIDEWAYS" }),
    );
    const bad = await repo.check();
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /WAL_INVALID_CONFIG: schemas\/avro\/compatibility\.json is invalid: default/,
    );
  });

  it("with --registry compares with the subject's versions there, and 'wal schema register' publishes", async (t) => {
    const registry = await startRegistry("schema_check");
    t.after(() => registry.stop());
    const subject = "orders-value";
    const repo = await repository({
      default: "BACKWARD",
      schemas: {},
      subjects: { "order.avsc": subject },
    });
    t.after(repo.remove);
    const register = (token: string | undefined) =>
      runWal(["schema", "register", "--dir", repo.dir, "--registry", registry.url], {
        WAL_ADMIN_TOKEN: token,
      });
    const withRegistry = () => repo.check(["--registry", registry.url]);

    const anonymous = await register(undefined);
    assert.equal(anonymous.code, 2, anonymous.stdout);
    assert.match(anonymous.stderr, /WAL_UNAUTHORIZED: .*admin token/);

    const first = await register(registryAdminToken);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^registered schemas\/avro\/order\.avsc → subject orders-value \(BACKWARD\), schema id \d+, version 1$/m,
    );
    const again = await register(registryAdminToken);
    assert.match(again.stdout, /^unchanged {2}schemas\/avro\/order\.avsc → subject orders-value/m);

    const current = await withRegistry();
    assert.equal(current.code, 0, current.stdout);
    assert.doesNotMatch(current.stdout, /note:/, "register set the subject's level");
    assert.match(
      current.stdout,
      /^ok {6}schemas\/avro\/order\.avsc \(BACKWARD against subject orders-value in the registry\)$/m,
    );

    // The registry moves ahead of git: v2 (a field with a default) is registered from elsewhere.
    const v2 = [...v1, { name: "currency", type: "string", default: "EUR" }];
    await writeFile(join(repo.dir, "schemas/avro/order.avsc"), order(v2));
    assert.match((await register(registryAdminToken)).stdout, /^registered .*version 2$/m);
    await repo.git("checkout", "--quiet", "--", "schemas/avro/order.avsc");

    // A change git alone accepts (v1 → v1 plus a field without a default is refused by git too,
    // so use a type change of the field only the registry's latest has).
    const clash = [...v1, { name: "currency", type: "int", default: 0 }];
    await writeFile(join(repo.dir, "schemas/avro/order.avsc"), order(clash));
    await repo.git("commit", "--quiet", "-am", "currency as a number");
    const broken = await withRegistry();
    assert.equal(broken.code, 1, broken.stdout);
    assert.match(
      broken.stdout,
      /^ok {6}schemas\/avro\/order\.avsc \(BACKWARD against [0-9a-f]{10}\)$/m,
    );
    assert.match(
      broken.stdout,
      /^BROKEN {2}schemas\/avro\/order\.avsc \(BACKWARD against subject orders-value in the registry\)$/m,
    );
    assert.match(
      broken.stdout,
      /registry subject orders-value version 2 \(backward\).*cannot read "string" as "int"/,
    );

    await new RegistryHttp(registry.url, { token: registryAdminToken }).setSubjectLevel(
      subject,
      "NONE",
    );
    const drifted = await withRegistry();
    assert.match(
      drifted.stdout,
      /note: the registry applies NONE to orders-value, not BACKWARD as schemas\/avro\/compatibility\.json says/,
    );
  });
});
