import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "./durations.ts";

test("durations parse with their unit and print back in the largest exact unit", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("5s"), 5_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration(" 1h "), 3_600_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  for (const bad of ["", "5", "1.5s", "-1s", "5 s", "5sec", "h"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
  assert.equal(formatDuration(3_600_000), "1h");
  assert.equal(formatDuration(90_000), "90s");
  assert.equal(formatDuration(1_500), "1500ms");
  assert.equal(formatDuration(0), "0ms");
});
