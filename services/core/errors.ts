/**
 * Stable error codes. Clients match on these, never on message text.
 * Adding a code is compatible; renaming or removing one is not.
 */
export const ErrorCode = {
  invalidArgument: "WAL_INVALID_ARGUMENT",
  namespaceNotFound: "WAL_NAMESPACE_NOT_FOUND",
  wrongShard: "WAL_WRONG_SHARD",
  targetNotAllowed: "WAL_TARGET_NOT_ALLOWED",
  clientNotAllowed: "WAL_CLIENT_NOT_ALLOWED",
  payloadTooLarge: "WAL_PAYLOAD_TOO_LARGE",
  invalidPayload: "WAL_INVALID_PAYLOAD",
  unknownSchema: "WAL_UNKNOWN_SCHEMA",
  schemaNotInSubject: "WAL_SCHEMA_NOT_IN_SUBJECT",
  registryUnavailable: "WAL_REGISTRY_UNAVAILABLE",
  schemaIncompatible: "WAL_SCHEMA_INCOMPATIBLE",
  overloaded: "WAL_OVERLOADED",
  shuttingDown: "WAL_SHUTTING_DOWN",
  logUnavailable: "WAL_LOG_UNAVAILABLE",
  logOutcomeUnknown: "WAL_LOG_OUTCOME_UNKNOWN",
  invalidConfig: "WAL_INVALID_CONFIG",
  targetTransient: "WAL_TARGET_TRANSIENT",
  targetPermanent: "WAL_TARGET_PERMANENT",
  envelopeCorrupt: "WAL_ENVELOPE_CORRUPT",
  retriesExhausted: "WAL_RETRIES_EXHAUSTED",
  deadlineExceeded: "WAL_DEADLINE_EXCEEDED",
  entryExpired: "WAL_ENTRY_EXPIRED",
  producerFenced: "WAL_PRODUCER_FENCED",
  deadLetterNotFound: "WAL_DEAD_LETTER_NOT_FOUND",
  infraFailed: "WAL_INFRA_FAILED",
  namespaceExists: "WAL_NAMESPACE_EXISTS",
  namespaceConflict: "WAL_NAMESPACE_CONFLICT",
  unauthorized: "WAL_UNAUTHORIZED",
  storeUnavailable: "WAL_STORE_UNAVAILABLE",
  controlPlaneUnavailable: "WAL_CONTROL_PLANE_UNAVAILABLE",
  internal: "WAL_INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const walErrorBrand = Symbol.for("wal.error");

export interface WalErrorOptions {
  /** The request or config field the error is about, dotted (`lifecycle.ttlMs`). */
  field?: string;
  cause?: unknown;
  /** Whether repeating the same operation unchanged can succeed. @default false */
  canRetry?: boolean;
}

/**
 * Base of every error WAL shows to a user: a stable code, the field at fault
 * when there is one, and whether retrying can help. The message always says
 * what to do about it.
 */
export class WalError extends Error {
  readonly [walErrorBrand] = true;
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly canRetry: boolean;

  constructor(code: ErrorCode, message: string, options: WalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WalError";
    this.code = code;
    this.field = options.field;
    this.canRetry = options.canRetry ?? false;
  }
}

/** Brand check that works across copies of this module (no bare instanceof). */
export function isWalError(error: unknown): error is WalError {
  return typeof error === "object" && error !== null && walErrorBrand in error;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
