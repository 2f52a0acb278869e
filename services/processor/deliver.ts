import { setTimeout as sleep } from "node:timers/promises";
import {
  backoffDelayMs,
  describeError,
  ErrorCode,
  isWalError,
  type NamespaceConfig,
} from "../core/index.ts";

export interface FailedAttempt {
  attempt: number;
  code: string;
  message: string;
  delayMs: number;
}

/**
 * Delay before the next in-place attempt. A transient failure follows the
 * namespace's backoff, lengthened to the target's Retry-After; a permanent
 * one (which has nowhere else to go until the dead-letter queue exists)
 * waits the longest backoff, so the key is held, not dropped.
 */
export function nextDelayMs(
  ns: NamespaceConfig,
  attempt: number,
  error: unknown,
  random = Math.random,
): number {
  const backoff = ns.delivery.inPlaceRetry;
  const permanent = isWalError(error) && error.code === ErrorCode.targetPermanent;
  const scheduled = permanent ? backoff.maxMs : backoffDelayMs(backoff, attempt, random);
  const asked =
    typeof error === "object" && error !== null
      ? (error as { retryAfterMs?: unknown }).retryAfterMs
      : undefined;
  return typeof asked === "number"
    ? Math.max(scheduled, Math.min(asked, backoff.maxMs))
    : scheduled;
}

/**
 * Runs one delivery attempt after another, in place, until one succeeds or
 * `signal` aborts (partition revoked, processor stopping). Resolves only on
 * success: nothing is counted done that the target did not take.
 */
export async function deliverInPlace(
  ns: NamespaceConfig,
  attemptDelivery: () => Promise<void>,
  signal: AbortSignal,
  onFailure: (failure: FailedAttempt) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    signal.throwIfAborted();
    try {
      await attemptDelivery();
      return;
    } catch (error) {
      const delayMs = nextDelayMs(ns, attempt, error);
      onFailure({
        attempt,
        code: isWalError(error) ? error.code : ErrorCode.targetTransient,
        message: describeError(error),
        delayMs,
      });
      await sleep(delayMs, undefined, { signal });
    }
  }
}
