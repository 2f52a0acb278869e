/**
 * Whether a write is durable, as the gateway answers it. `unknown` means the
 * outcome could not be confirmed (a broker timeout after sending): the entry
 * may or may not be in the log, and a retry with the same idempotency key is safe.
 */
export const Durability = { true: "TRUE", false: "FALSE", unknown: "UNKNOWN" } as const;
export type Durability = (typeof Durability)[keyof typeof Durability];
