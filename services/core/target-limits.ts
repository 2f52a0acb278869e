import type { TargetConfig } from "./namespace-config.ts";

/** Suffix of the item beside each cache key that records the last applied log position. */
export const memcachedVersionSuffix = "#wal-version";
/** memcached refuses keys over 250 bytes; the version item's suffix must fit too. */
export const memcachedMaxKeyBytes = 250 - memcachedVersionSuffix.length;
/** memcached's default item limit (1 MiB) less room for the item header. */
export const memcachedMaxItemBytes = 1024 * 1024 - 512;

/**
 * Why a target can never take an entry addressed at `address` with this
 * payload size, or undefined when it can. Checked when the write arrives,
 * so such a write is refused then instead of failing at delivery forever.
 */
export function targetLimitProblem(
  target: TargetConfig,
  address: string,
  payloadBytes: number,
): { field: "key" | "payload"; reason: string } | undefined {
  if (target.type !== "memcached") return undefined;
  const keyBytes = Buffer.byteLength(target.keyPrefix + address);
  if (keyBytes > memcachedMaxKeyBytes) {
    return {
      field: "key",
      reason: `makes a ${keyBytes}-byte cache key with the target's prefix; memcached allows ${memcachedMaxKeyBytes}`,
    };
  }
  if (payloadBytes > memcachedMaxItemBytes) {
    return {
      field: "payload",
      reason: `is ${payloadBytes} bytes; a memcached item holds at most ${memcachedMaxItemBytes}`,
    };
  }
  return undefined;
}
