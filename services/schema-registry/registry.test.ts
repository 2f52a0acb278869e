import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  CompatibilityLevel,
  ConfiguredLevels,
  Registration,
  RegistryStore,
  StoredVersion,
} from "../core/index.ts";
import {
  canonicalSchema,
  parseCompatibilityLevel,
  parseSchemaId,
  parseVersionSpec,
  SchemaRegistryService,
} from "./registry.ts";
import { RegistryError } from "./registry-error.ts";

/** The store port in memory: the rules under test live in the service. */
class MemoryStore implements RegistryStore {
  readonly schemas: string[] = [];
  readonly rows: StoredVersion[] = [];
  readonly configured = new Map<string, CompatibilityLevel>();

  async subjects(includeDeleted: boolean) {
    return [
      ...new Set(this.rows.filter((r) => includeDeleted || !r.deleted).map((r) => r.subject)),
    ];
  }
  async versions(subject: string, includeDeleted: boolean) {
    return this.rows.filter((r) => r.subject === subject && (includeDeleted || !r.deleted));
  }
  async schemaById(id: number) {
    return this.schemas[id - 1];
  }
  async versionsOfSchema(id: number) {
    return this.rows.filter((r) => r.id === id && !r.deleted);
  }
  async register(
    subject: string,
    schema: string,
    decide: (live: StoredVersion[], levels: ConfiguredLevels) => StoredVersion | undefined,
  ): Promise<Registration> {
    const live = await this.versions(subject, false);
    const existing = decide(live, await this.levels(subject));
    if (existing !== undefined) return { id: existing.id, version: existing.version };
    if (!this.schemas.includes(schema)) this.schemas.push(schema);
    const id = this.schemas.indexOf(schema) + 1;
    const version =
      Math.max(0, ...this.rows.filter((r) => r.subject === subject).map((r) => r.version)) + 1;
    this.rows.push({ subject, version, id, schema, deleted: false });
    return { id, version };
  }
  async levels(subject: string | null) {
    return {
      subject: subject === null ? undefined : this.configured.get(subject),
      global: this.configured.get(""),
    };
  }
  async setCompatibility(subject: string | null, level: CompatibilityLevel) {
    this.configured.set(subject ?? "", level);
  }
  async deleteCompatibility(subject: string) {
    const level = this.configured.get(subject);
    this.configured.delete(subject);
    return level;
  }
  async softDelete(subject: string, version: number | undefined) {
    const hit = this.rows.filter(
      (r) =>
        r.subject === subject && !r.deleted && (version === undefined || r.version === version),
    );
    for (const row of hit) row.deleted = true;
    return hit.map((r) => r.version);
  }
  async hardDelete(subject: string, version: number | undefined) {
    const hit = this.rows.filter(
      (r) => r.subject === subject && r.deleted && (version === undefined || r.version === version),
    );
    for (const row of hit) this.rows.splice(this.rows.indexOf(row), 1);
    return hit.map((r) => r.version);
  }
}

const record = (fields: object[]) => ({
  schema: JSON.stringify({ type: "record", name: "R", fields }),
});
const a = { name: "a", type: "int" };

function rejectsWith(promise: Promise<unknown>, errorCode: number, status: number) {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RegistryError);
    assert.equal(error.errorCode, errorCode);
    assert.equal(error.status, status);
    return true;
  });
}

describe("SchemaRegistryService", () => {
  it("keeps one id per schema text whatever its whitespace, and new versions only for new schemas", async () => {
    const registry = new SchemaRegistryService(new MemoryStore());
    const first = await registry.register("s", record([a]));
    const spaced = await registry.register("s", {
      schema: '{ "type": "record", "name": "R", "fields": [ { "name": "a", "type": "int" } ] }',
    });
    assert.deepEqual(spaced, first);
    const reordered = await registry.register("s", {
      schema: '{"fields":[{"type":"int","name":"a"}],"name":"R","type":"record"}',
    });
    assert.deepEqual(reordered, first, "attribute order does not make another schema");
    const other = await registry.register("t", record([a]));
    assert.equal(other.id, first.id);
    assert.equal(other.version, 1);
  });

  it("decides compatibility by the subject's level, falling back to the global one", async () => {
    const registry = new SchemaRegistryService(new MemoryStore());
    await registry.register("s", record([a]));
    await rejectsWith(registry.register("s", record([a, { name: "b", type: "string" }])), 409, 409);
    await registry.setGlobalLevel("none");
    const accepted = await registry.register("s", record([a, { name: "b", type: "string" }]));
    assert.equal(accepted.version, 2);
    await registry.setSubjectLevel("s", "FORWARD");
    // Forward: readers of version 2 must read the new data, which lacks b (no default).
    const check = await registry.compatibility("s", undefined, record([a]));
    assert.equal(check.isCompatible, false);
    assert.match(check.messages.join(), /forward/);
  });

  it("answers Confluent's codes for missing subjects, versions, schemas and unset levels", async () => {
    const registry = new SchemaRegistryService(new MemoryStore());
    await rejectsWith(registry.versions("nope", false), 40401, 404);
    await registry.register("s", record([a]));
    await rejectsWith(registry.version("s", 7, false), 40402, 404);
    await rejectsWith(registry.schemaById(99), 40403, 404);
    await rejectsWith(
      registry.lookup("s", record([{ name: "z", type: "int" }]), false),
      40403,
      404,
    );
    await rejectsWith(registry.subjectLevel("s", false), 40408, 404);
    assert.equal(await registry.subjectLevel("s", true), "BACKWARD");
  });

  it("soft-deletes before it deletes permanently", async () => {
    const registry = new SchemaRegistryService(new MemoryStore());
    await registry.register("s", record([a]));
    await rejectsWith(registry.deleteSubject("s", true), 40405, 404);
    await registry.register("s", record([a, { name: "b", type: "int", default: 0 }]));
    assert.equal(await registry.deleteVersion("s", 1, false), 1);
    await rejectsWith(registry.deleteVersion("s", 1, false), 40406, 404);
    assert.deepEqual(await registry.versions("s", false), [2]);
    assert.deepEqual(await registry.deleteSubject("s", false), [2]);
    await rejectsWith(registry.deleteSubject("s", false), 40404, 404);
    await rejectsWith(registry.versions("s", false), 40401, 404);
    assert.deepEqual(await registry.deleteSubject("s", true), [1, 2]);
    await rejectsWith(registry.versions("s", true), 40401, 404);
  });
});

describe("registry request parsing", () => {
  it("reads versions as numbers, latest or -1, refusing anything else with 42202", () => {
    assert.equal(parseVersionSpec("3"), 3);
    assert.equal(parseVersionSpec("latest"), "latest");
    assert.equal(parseVersionSpec("-1"), "latest");
    for (const bad of ["0", "abc", "2147483648", "1.5", ""]) {
      assert.throws(() => parseVersionSpec(bad), { errorCode: 42202, status: 422 });
    }
  });

  it("reads schema ids as positive 32-bit integers; any other is not found (40403)", () => {
    assert.equal(parseSchemaId("2147483647"), 2147483647);
    for (const bad of ["0", "2147483648", "9999999999", "-1", "x"]) {
      assert.throws(() => parseSchemaId(bad), { errorCode: 40403, status: 404 });
    }
  });

  it("takes levels in any case and refuses unknown ones with 42203", () => {
    assert.equal(parseCompatibilityLevel("full_transitive"), "FULL_TRANSITIVE");
    for (const bad of ["SIDEWAYS", 3, undefined]) {
      assert.throws(() => parseCompatibilityLevel(bad), { errorCode: 42203, status: 422 });
    }
  });

  it("refuses invalid Avro, other schema types and references with 42201", () => {
    assert.equal(canonicalSchema({ schema: ' "string" ' }), '"string"');
    for (const bad of [
      { schema: '{"type":"recrd"}' },
      { schema: "not json" },
      {},
      { schema: '"string"', schemaType: "PROTOBUF" },
      { schema: '"string"', references: [{ name: "x", subject: "y", version: 1 }] },
    ]) {
      assert.throws(() => canonicalSchema(bad), { errorCode: 42201, status: 422 });
    }
  });
});
