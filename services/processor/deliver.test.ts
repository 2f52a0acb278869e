import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BackoffConfig,
  type Delivery,
  ErrorCode,
  type NamespaceConfig,
  parseNamespaceConfig,
  type Target,
  TargetError,
  type WalEntry,
} from "../core/index.ts";
import { deliverInPlace, type FailedAttempt, nextDelayMs } from "./deliver.ts";

function namespace(inPlaceRetry: Partial<BackoffConfig>): NamespaceConfig {
  return parseNamespaceConfig({
    name: "orders",
    targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
    defaultTarget: "cache",
    delivery: { inPlaceRetry },
  });
}

/** 100, 200, 400, 800, then capped at 1000. */
const slow = namespace({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: false });
/** Fast enough that retrying in place costs the tests nothing. */
const fast = namespace({ initialMs: 1, maxMs: 5, multiplier: 2, jitter: false });
/** Waits long enough that a test can act while deliverInPlace sleeps. */
const patient = namespace({ initialMs: 60_000, maxMs: 60_000, jitter: false });

const entry: WalEntry = {
  id: "00000000-0000-4000-8000-000000000001",
  namespace: "orders",
  key: "order-1",
  createdAtMs: 0,
  lifecycle: { dueAtMs: null, expiresAtMs: null },
  target: { name: "cache", operation: "UPSERT", resource: null },
  idempotencyKey: null,
  attempts: [],
  originRegion: null,
  payload: Buffer.from("x"),
};

/** A Target whose first applies throw `failures` in turn (whatever they are); later ones succeed. */
class FlakyTarget implements Target {
  readonly kind = "flaky";
  readonly applied: Delivery[] = [];

  constructor(private readonly failures: unknown[]) {}

  async apply(delivery: Delivery): Promise<void> {
    this.applied.push(delivery);
    if (this.applied.length <= this.failures.length) throw this.failures[this.applied.length - 1];
  }

  async close(): Promise<void> {}
}

/**
 * The attempts deliverInPlace makes, as the processor builds them: each one
 * applies a fresh delivery (with its own trace context) to `target`.
 */
function attemptsOn(target: Target): () => Promise<void> {
  let n = 0;
  return () => {
    n += 1;
    return target.apply({
      entry,
      partition: 0,
      version: 10n,
      traceHeaders: { traceparent: `attempt-${n}` },
    });
  };
}

describe("nextDelayMs", () => {
  const transient = new TargetError("transient", "503");

  it("follows the namespace's backoff for a transient failure, capped at maxMs", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => nextDelayMs(slow, attempt, transient)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it("treats a failure that is not a WalError like a transient one", () => {
    assert.equal(nextDelayMs(slow, 3, new Error("socket hang up")), 400);
  });

  it("passes its random source to the jittered backoff", () => {
    const jittered = namespace({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: true });
    // Jitter draws in [delay/2, delay]: the lowest draw gives half of 400.
    assert.equal(
      nextDelayMs(jittered, 3, transient, () => 0),
      200,
    );
    assert.equal(
      nextDelayMs(jittered, 3, transient, () => 0.999_999),
      400,
    );
  });

  it("waits maxMs after a permanent failure, whatever the attempt", () => {
    const permanent = new TargetError("permanent", "400");
    assert.deepEqual(
      [1, 2, 10].map((attempt) => nextDelayMs(slow, attempt, permanent)),
      [1000, 1000, 1000],
    );
  });

  it("lengthens the delay to the target's Retry-After", () => {
    const asked = new TargetError("transient", "429", { retryAfterMs: 500 });
    assert.equal(nextDelayMs(slow, 1, asked), 500);
  });

  it("never shortens the backoff for a Retry-After below it", () => {
    const asked = new TargetError("transient", "429", { retryAfterMs: 50 });
    assert.equal(nextDelayMs(slow, 3, asked), 400);
  });

  it("caps a Retry-After above maxMs at maxMs", () => {
    const asked = new TargetError("transient", "503", { retryAfterMs: 3_600_000 });
    assert.equal(nextDelayMs(slow, 1, asked), 1000);
    const permanent = new TargetError("permanent", "410", { retryAfterMs: 3_600_000 });
    assert.equal(nextDelayMs(slow, 1, permanent), 1000);
  });

  it("computes a delay for a failure that is not an object", () => {
    assert.equal(nextDelayMs(slow, 1, undefined), 100);
    assert.equal(nextDelayMs(slow, 2, null), 200);
  });
});

describe("deliverInPlace", () => {
  it("retries until the target takes the delivery, reporting every failure", async () => {
    const target = new FlakyTarget([
      new TargetError("transient", "first"),
      new TargetError("transient", "second", { retryAfterMs: 3 }),
      new Error("third"),
    ]);
    const failures: FailedAttempt[] = [];
    await deliverInPlace(fast, attemptsOn(target), new AbortController().signal, (f) =>
      failures.push(f),
    );

    assert.equal(target.applied.length, 4, "three failures, then one success");
    assert.deepEqual(
      failures.map((f) => f.attempt),
      [1, 2, 3],
    );
    assert.deepEqual(
      failures.map((f) => f.code),
      [ErrorCode.targetTransient, ErrorCode.targetTransient, ErrorCode.targetTransient],
    );
    assert.deepEqual(
      failures.map((f) => f.message),
      ["first", "second", "third"],
    );
    // Backoff 1, 2 (lengthened to Retry-After 3), 4; all within maxMs 5.
    assert.deepEqual(
      failures.map((f) => f.delayMs),
      [1, 3, 4],
    );
    // Each attempt gets a fresh delivery (and so a fresh trace context).
    assert.deepEqual(
      target.applied.map((d) => d.traceHeaders.traceparent),
      ["attempt-1", "attempt-2", "attempt-3", "attempt-4"],
    );
  });

  it("resolves after one apply when the target takes the delivery at once", async () => {
    const target = new FlakyTarget([]);
    const failures: FailedAttempt[] = [];
    await deliverInPlace(fast, attemptsOn(target), new AbortController().signal, (f) =>
      failures.push(f),
    );
    assert.equal(target.applied.length, 1);
    assert.deepEqual(failures, []);
  });

  it("holds the key on a permanent failure, retrying after maxMs", async () => {
    const target = new FlakyTarget([new TargetError("permanent", "400 bad request")]);
    const failures: FailedAttempt[] = [];
    await deliverInPlace(fast, attemptsOn(target), new AbortController().signal, (f) =>
      failures.push(f),
    );
    assert.equal(target.applied.length, 2);
    assert.deepEqual(failures, [
      { attempt: 1, code: ErrorCode.targetPermanent, message: "400 bad request", delayMs: 5 },
    ]);
  });

  // The timeout only turns a wait that ignores the signal (60 s) into a failure instead of a pass.
  it("rejects and stops applying when aborted while it waits to retry", {
    timeout: 20_000,
  }, async () => {
    const target = new FlakyTarget(
      Array.from({ length: 10 }, () => new TargetError("transient", "down")),
    );
    const controller = new AbortController();
    let waiting!: () => void;
    const failed = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const delivering = deliverInPlace(patient, attemptsOn(target), controller.signal, () =>
      waiting(),
    );
    await failed;
    // onFailure runs just before the wait starts; let it start.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(target.applied.length, 1);

    controller.abort();
    await assert.rejects(delivering, { name: "AbortError" });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(target.applied.length, 1, "applied again after the abort");
  });

  it("applies nothing when the signal is already aborted", async () => {
    const target = new FlakyTarget([]);
    const controller = new AbortController();
    controller.abort(new Error("partition revoked"));
    await assert.rejects(
      deliverInPlace(fast, attemptsOn(target), controller.signal, () => {}),
      /partition revoked/,
    );
    assert.equal(target.applied.length, 0);
  });

  it("keeps retrying when the target rejects without an error object", async () => {
    // As a client library that rejects with no reason at all would.
    const target = new FlakyTarget([undefined]);
    const failures: FailedAttempt[] = [];
    await deliverInPlace(fast, attemptsOn(target), new AbortController().signal, (f) =>
      failures.push(f),
    );
    assert.equal(target.applied.length, 2);
    assert.equal(failures[0]?.code, ErrorCode.targetTransient);
  });
});
