import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs } from "./backoff.ts";
import type { BackoffConfig } from "./namespace-config.ts";

function config(overrides: Partial<BackoffConfig> = {}): BackoffConfig {
  return { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: false, ...overrides };
}

/** The schedule before jitter, computed independently of the implementation. */
function schedule(c: BackoffConfig, attempt: number): number {
  let delay = c.initialMs;
  for (let i = 1; i < attempt; i += 1) delay = Math.min(c.maxMs, delay * c.multiplier);
  return Math.min(c.maxMs, delay);
}

const shouldNotBeCalled = () => {
  throw new Error("random must not be drawn without jitter");
};

describe("backoffDelayMs without jitter", () => {
  it("grows from initialMs by the multiplier", () => {
    const c = config();
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(c, n, shouldNotBeCalled)),
      [100, 200, 400, 800, 1_600, 3_200, 6_400],
    );
  });

  it("caps the delay at maxMs", () => {
    const c = config();
    assert.equal(backoffDelayMs(c, 8), 10_000);
    assert.equal(backoffDelayMs(c, 30), 10_000);
    // Far past the point where the multiplier overflows to Infinity.
    assert.equal(backoffDelayMs(c, 5_000), 10_000);
  });

  it("follows initialMs * multiplier^(n-1) for other configs", () => {
    const configs = [
      config({ initialMs: 1, maxMs: 1_000_000, multiplier: 10 }),
      config({ initialMs: 50, maxMs: 60_000, multiplier: 3 }),
      config({ initialMs: 250, maxMs: 250, multiplier: 2 }),
      config({ initialMs: 500, maxMs: 5_000, multiplier: 1 }),
    ];
    for (const c of configs) {
      for (let n = 1; n <= 12; n += 1) {
        assert.equal(backoffDelayMs(c, n), schedule(c, n), `${JSON.stringify(c)} attempt ${n}`);
      }
    }
  });

  it("rounds a fractional schedule up to whole milliseconds, never sooner than scheduled", () => {
    const c = config({ initialMs: 100, maxMs: 10_000, multiplier: 1.5 });
    for (let n = 1; n <= 15; n += 1) {
      const delay = backoffDelayMs(c, n);
      assert.ok(Number.isInteger(delay), `attempt ${n}: ${delay}`);
      assert.ok(
        delay >= schedule(c, n) && delay < schedule(c, n) + 1,
        `attempt ${n}: ${delay} vs ${schedule(c, n)}`,
      );
    }
  });

  it("treats attempt 0 or less as the first retry", () => {
    assert.equal(backoffDelayMs(config(), 0), 100);
    assert.equal(backoffDelayMs(config(), -3), 100);
  });

  it("never decreases from one attempt to the next", () => {
    const c = config({ initialMs: 7, maxMs: 9_999, multiplier: 1.7 });
    let previous = 0;
    for (let n = 1; n <= 40; n += 1) {
      const delay = backoffDelayMs(c, n);
      assert.ok(delay >= previous, `attempt ${n}: ${delay} < ${previous}`);
      previous = delay;
    }
    assert.equal(previous, 9_999);
  });
});

describe("backoffDelayMs with jitter", () => {
  const jittered = [
    config({ jitter: true }),
    config({ jitter: true, initialMs: 75, maxMs: 30_000, multiplier: 3 }),
    config({ jitter: true, initialMs: 1, maxMs: 1, multiplier: 2 }),
    config({ jitter: true, initialMs: 333, maxMs: 333, multiplier: 4 }),
  ];

  it("draws at delay/2 with random 0", () => {
    for (const c of jittered) {
      for (let n = 1; n <= 12; n += 1) {
        const full = schedule(c, n);
        const delay = backoffDelayMs(c, n, () => 0);
        assert.ok(delay >= full / 2, `${JSON.stringify(c)} attempt ${n}: ${delay} < ${full / 2}`);
        assert.ok(delay <= Math.ceil(full / 2), `${JSON.stringify(c)} attempt ${n}: ${delay}`);
      }
    }
  });

  it("draws close to delay with random 0.999999, never above", () => {
    for (const c of jittered) {
      for (let n = 1; n <= 12; n += 1) {
        const full = schedule(c, n);
        const delay = backoffDelayMs(c, n, () => 0.999999);
        assert.ok(delay <= full, `${JSON.stringify(c)} attempt ${n}: ${delay} > ${full}`);
        assert.ok(delay >= full - 1, `${JSON.stringify(c)} attempt ${n}: ${delay}`);
      }
    }
  });

  it("keeps every draw within [delay/2, delay]", () => {
    const draws = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999];
    for (const c of jittered) {
      for (let n = 1; n <= 12; n += 1) {
        const full = schedule(c, n);
        let previous = 0;
        for (const r of draws) {
          const delay = backoffDelayMs(c, n, () => r);
          const context = `${JSON.stringify(c)} attempt ${n} random ${r}: ${delay}`;
          assert.ok(Number.isInteger(delay), context);
          assert.ok(delay >= full / 2 && delay <= full, context);
          assert.ok(delay >= previous, `${context}: a larger draw gave a shorter delay`);
          previous = delay;
        }
      }
    }
  });

  it("spreads draws over the range instead of returning a constant", () => {
    const c = config({ jitter: true });
    const low = backoffDelayMs(c, 5, () => 0);
    const high = backoffDelayMs(c, 5, () => 0.999999);
    assert.equal(low, 800);
    assert.ok(high > low);
  });

  it("draws once per call from the injected random function", () => {
    let calls = 0;
    const random = () => {
      calls += 1;
      return 0.5;
    };
    backoffDelayMs(config({ jitter: true }), 3, random);
    assert.equal(calls, 1);
  });
});
