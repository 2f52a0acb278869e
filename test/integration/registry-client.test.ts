import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  RegistryHttp,
  RegistryPayloadSchemas,
} from "../../services/adapters/schema-registry/index.ts";
import { type RunningRegistry, registryAdminToken, startRegistry } from "../support/registry.ts";
import { freePort, uniqueName } from "../support/servers.ts";

const schemaOf = (name: string) =>
  JSON.stringify({ type: "record", name, fields: [{ name: "n", type: "long" }] });

describe("the gateway's view of the registry, against the control plane", () => {
  let registry: RunningRegistry;
  let admin: RegistryHttp;

  before(async () => {
    registry = await startRegistry("registry_client");
    admin = new RegistryHttp(registry.url, { token: registryAdminToken });
  });

  after(() => registry.stop());

  it("finds a schema registered after it was asked for, once the recheck time has passed", async () => {
    const subject = uniqueName("late-value");
    const schemas = new RegistryPayloadSchemas({ url: registry.url, recheckMs: 300 });
    const first = await admin.register(uniqueName("other-value"), schemaOf("First"));
    const next = first + 1;
    assert.equal(await schemas.schemaById(next), undefined, "not registered yet");
    assert.equal(await admin.register(subject, schemaOf("Late")), next);
    assert.equal(await schemas.schemaById(next), undefined, "the refusal is kept a while");
    await sleep(350);
    const found = await schemas.schemaById(next);
    assert.ok(found !== undefined);
    assert.deepEqual({ ...(found.decode(Buffer.from([0x54])) as object) }, { n: 42 });
  });

  it("stops taking a schema for a subject once its version is deleted there", async () => {
    const subject = uniqueName("retired-value");
    const schemas = new RegistryPayloadSchemas({ url: registry.url, recheckMs: 300 });
    const id = await admin.register(subject, schemaOf("Retired"));
    assert.equal(await schemas.isUnderSubject(subject, id), true);
    assert.equal(await schemas.isUnderSubject("elsewhere-value", id), false);
    await admin.deleteSubject(subject);
    await sleep(350);
    assert.equal(await schemas.isUnderSubject(subject, id), false);
    assert.ok((await schemas.schemaById(id)) !== undefined, "the id keeps its schema");
  });

  it("says a registry is unreachable without showing the credentials in its URL", async () => {
    const port = await freePort();
    const schemas = new RegistryPayloadSchemas({
      url: `http://bench:s3cret-pass@127.0.0.1:${port}`,
      timeoutMs: 1_000,
    });
    await assert.rejects(schemas.schemaById(1), (error: Error & { code?: string }) => {
      assert.equal(error.code, "WAL_REGISTRY_UNAVAILABLE");
      assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${port} did not answer`));
      assert.doesNotMatch(error.message, /s3cret-pass|bench@/);
      return true;
    });
  });

  it("sends the admin token to this machine, and refuses a change without it naming what to give", async () => {
    const anonymous = new RegistryHttp(registry.url);
    await assert.rejects(anonymous.register(uniqueName("anon-value"), schemaOf("Anon")), {
      code: "WAL_UNAUTHORIZED",
      message: /admin token/,
    });
    const incompatible = uniqueName("clash-value");
    await admin.register(incompatible, schemaOf("Clash"));
    await assert.rejects(
      admin.register(
        incompatible,
        JSON.stringify({ type: "record", name: "Clash", fields: [{ name: "n", type: "string" }] }),
      ),
      { code: "WAL_SCHEMA_INCOMPATIBLE", message: /wal schema check --registry/ },
    );
  });
});
