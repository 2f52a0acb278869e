import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeDatabase } from "./connection.ts";

describe("describeDatabase", () => {
  it("names host, port and database, never the password", () => {
    assert.equal(
      describeDatabase("postgres://wal:hunter2@db.internal:6432/wal?sslmode=require"),
      "db.internal:6432/wal",
    );
    assert.equal(describeDatabase("postgresql://postgres@127.0.0.1/wal"), "127.0.0.1:5432/wal");
  });

  it("does not echo a URL it cannot parse (it may hold a password)", () => {
    assert.doesNotMatch(describeDatabase("postgres://wal:hunter2@[bad"), /hunter2/);
  });
});
