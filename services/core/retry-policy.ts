import { ErrorCode } from "./errors.ts";
import type { RetryPolicy } from "./namespace-config.ts";

/** The longest single retry delay, whatever the multiplier or a target asks. */
const maxRetryDelayMs = 86_400_000;

export interface Failure {
  code: string;
  message: string;
  /** A delay the target asked for (HTTP Retry-After). */
  retryAfterMs?: number;
}

/** What happens to an entry after a failed attempt. */
export type FailureOutcome =
  | { kind: "in-place" }
  | { kind: "retry"; notBeforeMs: number }
  | { kind: "dead"; reason: string; message: string };

/**
 * Decides the fate of an entry whose attempt just failed. `failures` counts
 * every failed attempt so far, this one included; `inLog` says the entry is
 * still in the namespace's log (its first attempts are made in place).
 *
 * Retry n (counted from the first tier) waits tier n, or the last tier times
 * `multiplier` per retry past it; jitter only lengthens it; a target's
 * Retry-After lengthens it further. A code in `deadLetterOn`, the last
 * allowed attempt, or a retry that would land past the deadline sends the
 * entry to the DLQ instead.
 */
export function afterFailure(
  policy: RetryPolicy,
  entry: { createdAtMs: number },
  failures: number,
  failure: Failure,
  inLog: boolean,
  nowMs: number,
  random: () => number = Math.random,
): FailureOutcome {
  if (policy.deadLetterOn.includes(failure.code)) {
    return { kind: "dead", reason: failure.code, message: failure.message };
  }
  if (failures >= policy.maxAttempts) {
    return {
      kind: "dead",
      reason: ErrorCode.retriesExhausted,
      message: `gave up after ${failures} failed attempts (retry.maxAttempts); last: ${failure.code}: ${failure.message}`,
    };
  }
  if (inLog && failures < policy.inPlaceAttempts) return { kind: "in-place" };

  const retry = Math.max(1, failures - policy.inPlaceAttempts + 1);
  const tiers = policy.tiers;
  const past = Math.max(0, retry - tiers.length);
  let delay = (tiers[Math.min(retry, tiers.length) - 1] as number) * policy.multiplier ** past;
  if (policy.jitter) delay *= 1 + random() / 5;
  if (failure.retryAfterMs !== undefined) delay = Math.max(delay, failure.retryAfterMs);
  const notBeforeMs = nowMs + Math.ceil(Math.min(delay, maxRetryDelayMs));

  const deadlineMs = entry.createdAtMs + policy.deadline;
  if (notBeforeMs > deadlineMs) {
    return {
      kind: "dead",
      reason: ErrorCode.deadlineExceeded,
      message: `the next retry (${new Date(notBeforeMs).toISOString()}) would come after the deadline (${new Date(deadlineMs).toISOString()}, retry.deadline); last: ${failure.code}: ${failure.message}`,
    };
  }
  return { kind: "retry", notBeforeMs };
}

/** Where an entry waits until `notBeforeMs`. */
export type Wait = { kind: "hold" } | { kind: "hop"; tier: number; untilMs: number };

/**
 * An entry due within `holdWindowMs` (by default the shortest tier's delay)
 * is held in memory; a later one hops through the longest tier that does not
 * overshoot, and is looked at again when the hop ends. Every record of a tier
 * topic therefore waits the same time, so tier partitions stay in due order
 * and their head is always the next record due.
 */
export function planWait(
  tiersMs: readonly number[],
  notBeforeMs: number,
  nowMs: number,
  holdWindowMs: number = tiersMs[0] as number,
): Wait {
  const remaining = notBeforeMs - nowMs;
  if (remaining <= holdWindowMs) return { kind: "hold" };
  let tier = 0;
  while (tier + 1 < tiersMs.length && (tiersMs[tier + 1] as number) <= remaining) tier += 1;
  return { kind: "hop", tier: tier + 1, untilMs: nowMs + (tiersMs[tier] as number) };
}
