import { z } from "zod";
import { formatDuration, parseDuration } from "./durations.ts";
import { ErrorCode, WalError } from "./errors.ts";
import { subjectPattern, subjectPatternMessage } from "./schema-registry-store.ts";
import { describeIssues } from "./validation.ts";

/**
 * The one schema of a namespace's config. The gateway, the processor, the CLI
 * and (later) the control plane all validate through `parseNamespaceConfig`,
 * so a config accepted anywhere is accepted everywhere.
 */

const namespaceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    "must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 63 characters)",
  );

const targetName = z
  .string()
  .regex(
    /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/,
    "must be a letter followed by letters, digits, '_' or '-'",
  );

const memcachedTarget = z.strictObject({
  type: z.literal("memcached"),
  /** Comma-separated `host:port` list. */
  servers: z.string().min(1),
  /** Prepended to every cache key. @default "" */
  keyPrefix: z.string().default(""),
  /** Expiry of written items in seconds; 0 keeps them until evicted. @default 0 */
  expiresSeconds: z.number().int().min(0).default(0),
});

const kafkaTopicTarget = z.strictObject({
  type: z.literal("kafka-topic"),
  topic: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, "must be a valid Kafka topic name"),
});

const webhookTarget = z.strictObject({
  type: z.literal("webhook"),
  url: z.url({ protocol: /^https?$/ }),
  /** Per-request timeout. @default 5000 */
  timeoutMs: z.number().int().min(1).max(120_000).default(5_000),
});

const targetConfig = z.discriminatedUnion("type", [
  memcachedTarget,
  kafkaTopicTarget,
  webhookTarget,
]);

const backoffConfig = z
  .strictObject({
    /** @default 100 */
    initialMs: z.number().int().min(1).default(100),
    /** @default 10000 */
    maxMs: z.number().int().min(1).default(10_000),
    /** @default 2 */
    multiplier: z.number().min(1).max(10).default(2),
    /** Draws each delay in [delay/2, delay] so many keys failing together spread apart. @default true */
    jitter: z.boolean().default(true),
  })
  .refine((b) => b.maxMs >= b.initialMs, {
    message: "maxMs cannot be less than initialMs",
    path: ["maxMs"],
  });

/** How long the namespace's topics keep records; no delay or retry may outlast it. */
export const topicRetentionMs = 7 * 86_400_000;

/** Milliseconds, or a duration such as `5s`, `10m`, `1h`, inside [min, max]. */
function duration(minMs: number, maxMs: number) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === "number" ? value : parseDuration(value);
    if (ms === undefined || !Number.isInteger(ms)) {
      ctx.addIssue({
        code: "custom",
        message: "must be whole milliseconds or a duration such as 250ms, 5s, 10m, 1h, 1d",
      });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: "custom",
        message: `must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

const errorCode = z
  .string()
  .regex(/^WAL_[A-Z_]+$/, "must be a WAL error code such as WAL_TARGET_PERMANENT");

const retryPolicy = z.strictObject({
  /**
   * Delays of the retry tiers, shortest first: retry n waits tier n (the
   * last tier for every retry after it). Each tier is a topic.
   * @default ["5s", "1m", "10m", "1h"]
   */
  tiers: z
    .array(duration(100, 86_400_000))
    .min(1)
    .max(8)
    .default([5_000, 60_000, 600_000, 3_600_000])
    .refine((tiers) => tiers.every((delay, i) => i === 0 || delay > (tiers[i - 1] as number)), {
      message: "must be in increasing order, without repeats",
    }),
  /** Failed attempts, in place and in tiers together, before an entry goes to the DLQ. @default 8 */
  maxAttempts: z.number().int().min(1).max(1000).default(8),
  /** Each retry after the last tier waits the previous wait times this (at most 1d). @default 1 */
  multiplier: z.number().min(1).max(10).default(1),
  /** Adds up to a fifth to each retry delay, so keys failing together spread apart; never shortens it. @default true */
  jitter: z.boolean().default(true),
  /** An entry not delivered this long after its write goes to the DLQ. @default "1d" */
  deadline: duration(1_000, topicRetentionMs).default(86_400_000),
  /** Attempts made in place (short backoff, `delivery.inPlaceRetry`) before the first tier. @default 2 */
  inPlaceAttempts: z.number().int().min(1).max(10).default(2),
  /** Failure codes that skip the tiers and go to the DLQ at once. @default ["WAL_TARGET_PERMANENT"] */
  deadLetterOn: z.array(errorCode).default(["WAL_TARGET_PERMANENT"]),
});

const namespaceConfig = z
  .strictObject({
    name: namespaceName,
    /** The deployment (its gateways and processors) that serves this namespace. @default "default" */
    shard: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,62}$/,
        "must be lowercase letters, digits and '-', starting with a letter",
      )
      .default("default"),
    /**
     * Client identities allowed to write: the common names (CN) of client
     * certificates, checked by gateways serving mutual TLS. Empty allows
     * every client; a namespace that lists any refuses unauthenticated calls.
     * @default []
     */
    allowedClients: z.array(z.string().min(1)).default([]),
    /**
     * Delivery stopped: writes are still taken and made durable, processors
     * leave the log untouched until the namespace is resumed. @default false
     */
    paused: z.boolean().default(false),
    /** Partitions of the namespace's log topic. @default 6 */
    partitions: z.number().int().min(1).max(10_000).default(6),
    /** @default 1 */
    replicationFactor: z.number().int().min(1).max(7).default(1),
    limits: z
      .strictObject({
        /**
         * At most 1000000: Kafka's default record limit is 1 MiB and the
         * envelope needs room (larger payloads need chunking, not built yet).
         * @default 900000
         */
        maxPayloadBytes: z.number().int().min(1).max(1_000_000).default(900_000),
        /** Writes without a key are refused when true. @default true */
        requireKey: z.boolean().default(true),
        /** @default 1024 */
        maxKeyBytes: z.number().int().min(1).max(16_384).default(1024),
      })
      .prefault({}),
    /**
     * Declares the payload's schema: payloads are then Avro in the Confluent
     * wire format, of a schema registered under `subject`, and the gateway
     * refuses any other. Without it payloads are opaque bytes.
     */
    payload: z
      .strictObject({
        subject: z.string().regex(subjectPattern, subjectPatternMessage),
      })
      .optional(),
    targets: z.record(targetName, targetConfig).refine((t) => Object.keys(t).length > 0, {
      message: "must declare at least one target",
    }),
    /** Target used when a write names none. */
    defaultTarget: targetName,
    delivery: z
      .strictObject({
        /** Keys of one partition applied in parallel. @default 64 */
        maxConcurrentKeys: z.number().int().min(1).max(10_000).default(64),
        /** Backoff between the attempts made in place, before an entry moves to a retry tier. */
        inPlaceRetry: backoffConfig.prefault({}),
        /**
         * `strict`: while an entry of a key waits in a retry tier or for its
         * delay, later entries of that key wait behind it (across restarts).
         * `relaxed`: each entry is delivered on its own schedule.
         * @default "strict"
         */
        ordering: z.enum(["strict", "relaxed"]).default("strict"),
      })
      .prefault({}),
    retry: retryPolicy.prefault({}),
  })
  .refine((ns) => Object.hasOwn(ns.targets, ns.defaultTarget), {
    message: "must name one of the namespace's targets",
    path: ["defaultTarget"],
  });

const namespacesFile = z
  .strictObject({ namespaces: z.array(namespaceConfig) })
  .refine((f) => new Set(f.namespaces.map((n) => n.name)).size === f.namespaces.length, {
    message: "namespace names must be unique",
    path: ["namespaces"],
  });

export type NamespaceConfig = z.output<typeof namespaceConfig>;
export type NamespaceConfigInput = z.input<typeof namespaceConfig>;
export type TargetConfig = z.output<typeof targetConfig>;
export type BackoffConfig = z.output<typeof backoffConfig>;
export type RetryPolicy = z.output<typeof retryPolicy>;

function toWalError(error: z.ZodError, source: string): WalError {
  const { field, message } = describeIssues(error, "(root)");
  return new WalError(
    ErrorCode.invalidConfig,
    `${source} is invalid: ${message}. Fix the value and try again.`,
    {
      field: field === "(root)" ? "" : field,
    },
  );
}

/** Validates one namespace config and fills its defaults. Throws WAL_INVALID_CONFIG naming the field. */
export function parseNamespaceConfig(input: unknown, source = "namespace config"): NamespaceConfig {
  const result = namespaceConfig.safeParse(input);
  if (!result.success) throw toWalError(result.error, source);
  return result.data;
}

/** Validates a file of namespaces (`{ "namespaces": [...] }`). */
export function parseNamespacesFile(input: unknown, source = "namespaces file"): NamespaceConfig[] {
  const result = namespacesFile.safeParse(input);
  if (!result.success) throw toWalError(result.error, source);
  return result.data.namespaces;
}
