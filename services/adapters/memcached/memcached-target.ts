import memjs from "memjs";
import { type Delivery, type Target, TargetError } from "../../core/index.ts";
import type { Logger } from "../../observability/index.ts";

export interface MemcachedTargetOptions {
  /** Comma-separated `host:port` list. */
  servers: string;
  keyPrefix: string;
  expiresSeconds: number;
}

/** memcached's default item size limit, less room for the item header. */
const maxItemBytes = 1024 * 1024 - 512;

/**
 * Writes entries into memcached (standing in for EVCache). The value is the
 * payload as is, so readers need no WAL library. Beside each item a version
 * item records the log position last applied to it; an entry whose version
 * is not newer is skipped, so a redelivery or a replay of older entries
 * never overwrites a newer value, and a DELETE leaves a version behind that
 * keeps a late older write from bringing the value back.
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
    return `${cacheKey}#wal-version`;
  }

  async apply({ entry, version }: Delivery): Promise<void> {
    const cacheKey = this.options.keyPrefix + (entry.target.resource ?? entry.key);
    if (Buffer.byteLength(cacheKey) > 230) {
      throw new TargetError(
        "permanent",
        `cache key '${cacheKey.slice(0, 40)}…' exceeds memcached's 250-byte key limit`,
      );
    }
    if (entry.payload.length > maxItemBytes) {
      throw new TargetError(
        "permanent",
        `payload of ${entry.payload.length} bytes exceeds memcached's item limit of ${maxItemBytes}; lower the namespace's limits.maxPayloadBytes`,
      );
    }
    const versionKey = MemcachedTarget.versionKey(cacheKey);
    try {
      const stored = await this.client.get(versionKey);
      if (stored.value !== null && BigInt(stored.value.toString()) >= version) return;
      if (entry.target.operation === "DELETE") await this.client.delete(cacheKey);
      else await this.client.set(cacheKey, entry.payload, { expires: this.options.expiresSeconds });
      await this.client.set(versionKey, version.toString(), {
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
