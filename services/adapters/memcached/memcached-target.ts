import memjs from "memjs";
import {
  type Delivery,
  memcachedVersionSuffix,
  type Target,
  TargetError,
  targetLimitProblem,
} from "../../core/index.ts";
import type { Logger } from "../../observability/index.ts";

export interface MemcachedTargetOptions {
  /** Comma-separated `host:port` list. */
  servers: string;
  keyPrefix: string;
  expiresSeconds: number;
}

/**
 * Writes entries into memcached (standing in for EVCache). The value is the
 * payload as is, so readers need no WAL library. Beside each item a version
 * item records the log position (partition:offset) last applied to it; an
 * entry from the same partition that is not newer is skipped, so a
 * redelivery or a replay of older entries never overwrites a newer value,
 * and a DELETE leaves a version behind that keeps a late older write from
 * bringing the value back. Positions of different partitions do not
 * compare: the later arrival wins.
 */
export class MemcachedTarget implements Target {
  readonly kind = "memcached";
  private readonly client: memjs.Client;

  constructor(
    private readonly options: MemcachedTargetOptions,
    logger: Logger,
  ) {
    this.client = memjs.Client.create(options.servers, {
      retries: 1,
      timeout: 1,
      expires: options.expiresSeconds,
      logger: {
        log: (...args: unknown[]) =>
          logger.warn({ component: "memjs" }, args.map(String).join(" ")),
      },
    });
  }

  static versionKey(cacheKey: string): string {
    return `${cacheKey}${memcachedVersionSuffix}`;
  }

  async apply({ entry, partition, version }: Delivery): Promise<void> {
    const cacheKey = this.options.keyPrefix + (entry.target.resource ?? entry.key);
    const tooBig = targetLimitProblem(
      { type: "memcached", ...this.options },
      entry.target.resource ?? entry.key,
      entry.payload.length,
    );
    if (tooBig !== undefined)
      throw new TargetError("permanent", `${tooBig.field} ${tooBig.reason}`);
    const versionKey = MemcachedTarget.versionKey(cacheKey);
    try {
      const stored = parsePosition((await this.client.get(versionKey)).value);
      if (stored !== undefined && stored.partition === partition && stored.offset >= version)
        return;
      if (entry.target.operation === "DELETE") await this.client.delete(cacheKey);
      else await this.client.set(cacheKey, entry.payload, { expires: this.options.expiresSeconds });
      await this.client.set(versionKey, `${partition}:${version}`, {
        expires: this.options.expiresSeconds,
      });
    } catch (cause) {
      throw new TargetError(
        "transient",
        `memcached at ${this.options.servers} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** A version item's `partition:offset`; anything else (absent, foreign) compares as nothing applied. */
function parsePosition(value: Buffer | null): { partition: number; offset: bigint } | undefined {
  const match = value === null ? null : /^(\d+):(\d+)$/.exec(value.toString());
  if (match === null) return undefined;
  return { partition: Number(match[1]), offset: BigInt(match[2] as string) };
}
