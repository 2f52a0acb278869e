import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type DeadLetter, matchesFilter, traceIdOf } from "./dead-letter.ts";

const letter: DeadLetter = {
  entryId: "e-1",
  key: "order-7",
  reason: "WAL_RETRIES_EXHAUSTED",
  message: "gave up",
  deadAt: "2026-11-26T12:00:00.000Z",
  createdAt: "2026-11-26T11:00:00.000Z",
  target: "hook",
  logOffset: "42",
  position: "0:3",
  attempts: [],
  traceId: null,
  payloadBytes: 10,
};

describe("dead letter filters", () => {
  it("match when every set field matches", () => {
    const at = Date.parse(letter.deadAt);
    assert.ok(matchesFilter(letter, {}));
    assert.ok(matchesFilter(letter, { ids: ["e-0", "e-1"], key: "order-7" }));
    assert.ok(matchesFilter(letter, { code: "WAL_RETRIES_EXHAUSTED", fromMs: at, toMs: at + 1 }));
    assert.ok(!matchesFilter(letter, { ids: ["e-2"] }));
    assert.ok(!matchesFilter(letter, { key: "order-8" }));
    assert.ok(!matchesFilter(letter, { code: "WAL_TARGET_PERMANENT" }));
    assert.ok(!matchesFilter(letter, { fromMs: at + 1 }));
    assert.ok(!matchesFilter(letter, { toMs: at }), "the end of a range is exclusive");
  });

  it("read the trace id of a traceparent header", () => {
    assert.equal(
      traceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    assert.equal(traceIdOf(undefined), null);
    assert.equal(traceIdOf("garbage"), null);
  });
});
