import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { orderMigrations, pendingMigrations } from "./migrations.ts";

const files = [
  { name: "0010_later.sql", sql: "SELECT 10" },
  { name: "0002_second.sql", sql: "SELECT 2" },
  { name: "0001_first.sql", sql: "SELECT 1" },
];

describe("orderMigrations", () => {
  it("orders by number, not by text", () => {
    assert.deepEqual(
      orderMigrations(files).map((m) => [m.version, m.name]),
      [
        [1, "0001_first.sql"],
        [2, "0002_second.sql"],
        [10, "0010_later.sql"],
      ],
    );
  });

  it("refuses a misnamed file and a number used twice", () => {
    assert.throws(() => orderMigrations([{ name: "first.sql", sql: "" }]), /misnamed/);
    assert.throws(() => orderMigrations([{ name: "0001-First.sql", sql: "" }]), /misnamed/);
    assert.throws(
      () => orderMigrations([...files, { name: "2_again.sql", sql: "SELECT 0" }]),
      /share number 2/,
    );
  });
});

describe("pendingMigrations", () => {
  const known = orderMigrations(files);
  const firstOnly = known.slice(0, 1);

  it("answers every migration for a fresh database, and none once all are applied", () => {
    assert.deepEqual(pendingMigrations(known, []), known);
    assert.deepEqual(pendingMigrations(known, known), []);
  });

  it("answers the ones not applied yet, in order", () => {
    assert.deepEqual(
      pendingMigrations(known, firstOnly).map((m) => m.version),
      [2, 10],
    );
  });

  it("refuses a database migrated by a newer version", () => {
    assert.throws(
      () => pendingMigrations(firstOnly, known.slice(0, 2)),
      /0002_second\.sql, which this version of wal does not know/,
    );
  });

  it("refuses an applied migration whose file changed since", () => {
    assert.throws(
      () =>
        pendingMigrations(
          known,
          firstOnly.map((m) => ({ ...m, checksum: "0".repeat(64) })),
        ),
      /0001_first\.sql differs from the one applied/,
    );
  });
});
