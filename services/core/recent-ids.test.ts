import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecentIds } from "./recent-ids.ts";

describe("RecentIds", () => {
  it("remembers the last ids up to its capacity, forgetting the oldest first", () => {
    const recent = new RecentIds(3);
    for (const id of ["a", "b", "c"]) recent.add(id);
    assert.deepEqual(
      ["a", "b", "c", "d"].map((id) => recent.has(id)),
      [true, true, true, false],
    );
    recent.add("d");
    assert.equal(recent.has("a"), false);
    assert.equal(recent.has("d"), true);
  });

  it("counts an id seen again as new", () => {
    const recent = new RecentIds(2);
    recent.add("a");
    recent.add("b");
    recent.add("a");
    recent.add("c");
    assert.equal(recent.has("a"), true);
    assert.equal(recent.has("b"), false);
  });
});
