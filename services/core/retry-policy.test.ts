import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode } from "./errors.ts";
import { parseNamespaceConfig, type RetryPolicy } from "./namespace-config.ts";
import { afterFailure, planWait } from "./retry-policy.ts";

function policy(retry: Record<string, unknown> = {}): RetryPolicy {
  return parseNamespaceConfig({
    name: "orders",
    targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
    defaultTarget: "cache",
    retry,
  }).retry;
}

const transient = { code: ErrorCode.targetTransient, message: "503 from the target" };
const t0 = 1_000_000;
const entry = { createdAtMs: t0 };

describe("afterFailure", () => {
  it("tries in place first, then walks the tiers, then repeats the last one", () => {
    const p = policy({ jitter: false, maxAttempts: 20, inPlaceAttempts: 2 });
    assert.deepEqual(afterFailure(p, entry, 1, transient, true, t0), { kind: "in-place" });
    const waits = [2, 3, 4, 5, 6, 7].map((failures) => {
      const outcome = afterFailure(p, entry, failures, transient, failures === 2, t0);
      assert.equal(outcome.kind, "retry");
      return outcome.kind === "retry" ? outcome.notBeforeMs - t0 : -1;
    });
    assert.deepEqual(waits, [5_000, 60_000, 600_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it("does not retry in place an entry already in a tier", () => {
    const p = policy({ jitter: false });
    const outcome = afterFailure(p, entry, 1, transient, false, t0);
    assert.deepEqual(outcome, { kind: "retry", notBeforeMs: t0 + 5_000 });
  });

  it("multiplies waits past the last tier, up to a day", () => {
    const p = policy({ jitter: false, tiers: ["1s", "2s"], multiplier: 10, maxAttempts: 50 });
    const wait = (failures: number) => {
      const outcome = afterFailure(p, entry, failures, transient, false, t0);
      return outcome.kind === "retry" ? outcome.notBeforeMs - t0 : outcome.kind;
    };
    assert.deepEqual([wait(3), wait(4), wait(5), wait(6)], [2_000, 20_000, 200_000, 2_000_000]);
    assert.equal(wait(9), 86_400_000, "capped at a day");
    const later = afterFailure(p, entry, 9, transient, false, t0 + 1);
    assert.equal(later.kind, "dead", "a day-long wait passes the default one-day deadline");
  });

  it("only lengthens a wait with jitter, by at most a fifth", () => {
    const p = policy({ jitter: true });
    for (const draw of [0, 0.5, 0.999]) {
      const outcome = afterFailure(p, entry, 3, transient, false, t0, () => draw);
      assert.equal(outcome.kind, "retry");
      if (outcome.kind !== "retry") continue;
      const wait = outcome.notBeforeMs - t0;
      assert.ok(wait >= 60_000 && wait <= 72_000, `wait ${wait}`);
    }
  });

  it("honours a longer Retry-After", () => {
    const p = policy({ jitter: false });
    const asked = { ...transient, retryAfterMs: 42_000 };
    assert.deepEqual(afterFailure(p, entry, 2, asked, false, t0), {
      kind: "retry",
      notBeforeMs: t0 + 42_000,
    });
    const shorter = { ...transient, retryAfterMs: 10 };
    assert.deepEqual(afterFailure(p, entry, 3, shorter, false, t0), {
      kind: "retry",
      notBeforeMs: t0 + 60_000,
    });
  });

  it("dead-letters listed codes at once, the last attempt, and retries past the deadline", () => {
    const p = policy({ maxAttempts: 3, deadline: "30s" });
    const permanent = { code: ErrorCode.targetPermanent, message: "404" };
    const dead = afterFailure(p, entry, 1, permanent, true, t0);
    assert.deepEqual(dead, { kind: "dead", reason: ErrorCode.targetPermanent, message: "404" });

    const exhausted = afterFailure(p, entry, 3, transient, false, t0);
    assert.equal(exhausted.kind, "dead");
    assert.equal(exhausted.kind === "dead" && exhausted.reason, ErrorCode.retriesExhausted);
    assert.match(exhausted.kind === "dead" ? exhausted.message : "", /3 failed attempts.*503/);

    const late = afterFailure(p, entry, 2, transient, false, t0 + 29_000);
    assert.equal(late.kind === "dead" && late.reason, ErrorCode.deadlineExceeded);
  });
});

describe("planWait", () => {
  const tiers = [5_000, 60_000, 600_000, 3_600_000];
  it("holds what is due within the shortest tier, or the window asked for", () => {
    assert.deepEqual(planWait(tiers, t0 + 5_000, t0), { kind: "hold" });
    assert.deepEqual(planWait(tiers, t0 - 10, t0), { kind: "hold" });
    assert.deepEqual(planWait(tiers, t0 + 5_200, t0, 5_200), { kind: "hold" });
    assert.equal(planWait(tiers, t0 + 5_201, t0, 5_200).kind, "hop");
  });
  it("hops through the longest tier that does not overshoot", () => {
    assert.deepEqual(planWait(tiers, t0 + 5_001, t0), {
      kind: "hop",
      tier: 1,
      untilMs: t0 + 5_000,
    });
    assert.deepEqual(planWait(tiers, t0 + 61_000, t0), {
      kind: "hop",
      tier: 2,
      untilMs: t0 + 60_000,
    });
    assert.deepEqual(planWait(tiers, t0 + 86_400_000, t0), {
      kind: "hop",
      tier: 4,
      untilMs: t0 + 3_600_000,
    });
  });
});

describe("retry policy config", () => {
  it("defaults to tiers 5s, 1m, 10m, 1h with jitter", () => {
    const p = policy();
    assert.deepEqual(p.tiers, [5_000, 60_000, 600_000, 3_600_000]);
    assert.equal(p.jitter, true);
    assert.equal(p.maxAttempts, 8);
    assert.deepEqual(p.deadLetterOn, ["WAL_TARGET_PERMANENT"]);
  });
  it("names the field and the reason of a bad policy", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ tiers: ["1m", "5s"] }, /retry\.tiers.*increasing/],
      [{ tiers: ["5 seconds"] }, /retry\.tiers\.0.*duration/],
      [{ tiers: ["2d"] }, /retry\.tiers\.0.*between 100ms and 1d/],
      [{ maxAttempts: 0 }, /retry\.maxAttempts/],
      [{ deadLetterOn: ["oops"] }, /retry\.deadLetterOn\.0.*WAL error code/],
      [{ deadline: "30d" }, /retry\.deadline.*between 1s and 7d/],
    ];
    for (const [retry, pattern] of cases) {
      assert.throws(() => policy(retry), pattern);
    }
  });
});
