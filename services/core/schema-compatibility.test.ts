import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CompatibilityLevel, checkCompatibility } from "./schema-compatibility.ts";

const record = (fields: unknown[]) => ({ type: "record", name: "Order", fields });
const v1 = record([
  { name: "id", type: "string" },
  { name: "total", type: "int" },
]);
const earlier = [{ label: "v1", schema: v1 }];
const check = (
  next: unknown,
  level: CompatibilityLevel,
  versions: { label: string; schema: unknown }[] = earlier,
) => checkCompatibility(next, versions, level);

describe("checkCompatibility", () => {
  it("refuses a field added without a default under BACKWARD, naming the field and the rule", () => {
    const next = record([...v1.fields, { name: "currency", type: "string" }]);
    const [problem, ...rest] = check(next, "BACKWARD");
    assert.equal(rest.length, 0);
    assert.equal(problem?.against, "v1");
    assert.match(problem?.rule ?? "", /new schema must read data written with v1 \(backward\)/);
    assert.match(problem?.reason ?? "", /currency/);
    assert.deepEqual(check(next, "FORWARD"), [], "old readers ignore the new field");
  });

  it("takes a field added with a default under FULL", () => {
    const next = record([...v1.fields, { name: "currency", type: "string", default: "EUR" }]);
    assert.deepEqual(check(next, "FULL"), []);
  });

  it("refuses a changed type both ways", () => {
    const next = record([
      { name: "id", type: "string" },
      { name: "total", type: "string" },
    ]);
    const problems = check(next, "FULL");
    assert.equal(problems.length, 2);
    assert.match(problems[0]?.reason ?? "", /cannot read "int" as "string"/);
    assert.match(problems[1]?.reason ?? "", /cannot read "string" as "int"/);
  });

  it("refuses a removed field without a default under FULL, but not under BACKWARD", () => {
    const next = record([{ name: "id", type: "string" }]);
    assert.deepEqual(check(next, "BACKWARD"), []);
    const [problem] = check(next, "FULL");
    assert.match(problem?.rule ?? "", /readers of v1 must read data written with the new schema/);
    assert.match(problem?.reason ?? "", /total/);
  });

  it("allows a promotion (int to long) backward, not forward", () => {
    const next = record([
      { name: "id", type: "string" },
      { name: "total", type: "long" },
    ]);
    assert.deepEqual(check(next, "BACKWARD"), []);
    assert.equal(check(next, "FORWARD").length, 1);
  });

  it("checks every earlier version only when transitive, and nothing under NONE", () => {
    const v0 = record([{ name: "id", type: "string" }]);
    const versions = [
      { label: "v0", schema: v0 },
      { label: "v1", schema: record([...v0.fields, { name: "total", type: "int", default: 0 }]) },
    ];
    const next = record([...v0.fields, { name: "total", type: "int" }]);
    assert.deepEqual(check(next, "BACKWARD", versions), [], "v1 has total");
    const transitive = check(next, "BACKWARD_TRANSITIVE", versions);
    assert.deepEqual(
      transitive.map((p) => p.against),
      ["v0"],
      "v0 data lacks total and the new schema gives it no default",
    );
    assert.deepEqual(check({ type: "string" }, "NONE", versions), []);
  });

  it("refuses a schema that is not Avro, naming which one", () => {
    assert.throws(
      () => check({ type: "record", name: "X" }, "BACKWARD"),
      /new schema is not a valid Avro schema/,
    );
    assert.throws(
      () => check(v1, "BACKWARD", [{ label: "v0", schema: { type: "nope" } }]),
      /version v0 is not a valid Avro schema/,
    );
  });
});
