import { type Delivery, type Target, TargetError } from "../../core/index.ts";

export interface WebhookTargetOptions {
  url: string;
  timeoutMs: number;
}

const retryableStatuses = new Set([408, 425, 429]);

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Delivers entries to an HTTP endpoint: UPSERT as POST with the payload as
 * body, DELETE as DELETE. `Idempotency-Key` carries the entry id (stable
 * across retries and replays) and `WAL-Partition` / `WAL-Version` the log
 * position, so the receiver can drop what it has already applied;
 * `WAL-Attempt` counts this attempt (1 + the failures before it).
 *
 * 2xx is success; 408, 425, 429, 5xx and network failures are transient
 * (Retry-After honoured); any other status is permanent.
 */
export class WebhookTarget implements Target {
  readonly kind = "webhook";

  constructor(private readonly options: WebhookTargetOptions) {}

  async apply({ entry, partition, version, traceHeaders }: Delivery): Promise<void> {
    const isDelete = entry.target.operation === "DELETE";
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: isDelete ? "DELETE" : "POST",
        headers: {
          ...traceHeaders,
          "content-type": "application/octet-stream",
          "idempotency-key": entry.id,
          "wal-namespace": entry.namespace,
          "wal-key": encodeURIComponent(entry.target.resource ?? entry.key),
          "wal-partition": String(partition),
          "wal-version": version.toString(),
          "wal-attempt": String(entry.attempts.length + 1),
        },
        ...(isDelete ? {} : { body: entry.payload }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body?.cancel();
    } catch (cause) {
      throw new TargetError(
        "transient",
        `webhook ${this.options.url} did not answer: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    if (response.ok) return;
    const transient = retryableStatuses.has(response.status) || response.status >= 500;
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    throw new TargetError(
      transient ? "transient" : "permanent",
      `webhook ${this.options.url} answered HTTP ${response.status}`,
      retryAfterMs === undefined ? {} : { retryAfterMs },
    );
  }

  async close(): Promise<void> {}
}
