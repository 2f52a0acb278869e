import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStartOffsets } from "./replay.ts";

describe("parseStartOffsets", () => {
  it("takes one offset for every partition, or partition:offset pairs", () => {
    assert.deepEqual(
      parseStartOffsets("12", 3),
      new Map([
        [0, 12n],
        [1, 12n],
        [2, 12n],
      ]),
    );
    assert.deepEqual(
      parseStartOffsets("0:5, 2:7", 3),
      new Map([
        [0, 5n],
        [2, 7n],
      ]),
    );
  });
  it("refuses anything else, naming the flag", () => {
    for (const bad of ["", "-1", "a:1", "0:", "0:1;1:2"]) {
      assert.throws(() => parseStartOffsets(bad, 3), /--from-offset/, bad);
    }
  });
});
