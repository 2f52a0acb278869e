import type { WalEntry } from "./envelope.ts";
import { ErrorCode, WalError } from "./errors.ts";

/** What a delivery knows beyond the entry: its place in the log. */
export interface Delivery {
  entry: WalEntry;
  /** Log partition of the entry; `version` is only comparable within one partition. */
  partition: number;
  /**
   * Monotonic per key within its partition (the log offset): a target that
   * stores a version applies a delivery only if it is newer than what it
   * holds from the same partition, so a redelivered or replayed entry
   * changes nothing.
   */
  version: bigint;
  /** W3C trace context of the delivery span, for targets that forward it. */
  traceHeaders: Record<string, string>;
}

/**
 * The port every destination implements. `apply` must be idempotent for the
 * same entry id and version, and must throw a TargetError that says whether
 * retrying can help.
 */
export interface Target {
  readonly kind: string;
  apply(delivery: Delivery): Promise<void>;
  close(): Promise<void>;
}

export type FailureKind = "transient" | "permanent";

/** A failed apply, classified by the adapter (never by matching message text). */
export class TargetError extends WalError {
  readonly kind: FailureKind;
  /** The target asked to be retried no sooner than this (e.g. HTTP Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: FailureKind,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(kind === "transient" ? ErrorCode.targetTransient : ErrorCode.targetPermanent, message, {
      cause: options.cause,
      canRetry: kind === "transient",
    });
    this.name = "TargetError";
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
  }
}
