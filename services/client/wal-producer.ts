import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { registryEndpoint } from "../adapters/schema-registry/index.ts";
import {
  type BackoffConfig,
  backoffDelayMs,
  describeError,
  ErrorCode,
  WalError,
} from "../core/index.ts";
import { WalClient, type WriteInput, type WriteOutcome } from "./wal-client.ts";

/** PEM material for TLS to the gateway; `cert` and `key` together make it mutual TLS. */
export interface ProducerTls {
  /** CA that signed the gateway's certificate; the system's roots when absent. */
  ca?: Buffer;
  /** The client's certificate chain (mTLS). */
  cert?: Buffer;
  /** The client's private key (mTLS). */
  key?: Buffer;
}

export interface WalProducerOptions {
  /** gRPC address of a gateway, `host:port`. */
  gateway: string;
  /** Confluent-compatible schema registry; `user:password@` in the URL is sent as HTTP Basic. */
  registryUrl: string;
  namespace: string;
  /** The namespace's payload subject; values are encoded with its latest schema. */
  subject: string;
  /** Plaintext when absent. */
  tls?: ProducerTls;
  /** Tries per write, the first included. @default 6 */
  maxAttempts?: number;
  /** Wait before the first retry; doubles up to `maxBackoffMs`. @default 100 */
  initialBackoffMs?: number;
  /** @default 2000 */
  maxBackoffMs?: number;
  /** Deadline of each gRPC call. @default 10000 */
  callDeadlineMs?: number;
  /** How long the subject's latest schema id is used before asking the registry again. @default 60000 */
  schemaRefreshMs?: number;
}

export interface ProduceOptions {
  /** Retries of this write reuse it; a fresh one per write when absent. */
  idempotencyKey?: string;
  lifecycle?: WriteInput["lifecycle"];
  target?: WriteInput["target"];
}

/** A durable write: the entry id (the same on every retry) and the tries it took. */
export interface ProduceReceipt {
  id: string;
  idempotencyKey: string;
  schemaId: number;
  attempts: number;
}

// Answers after which the same write, sent again, can still succeed.
const retryableCodes = new Set<string>([
  ErrorCode.overloaded,
  ErrorCode.shuttingDown,
  ErrorCode.logUnavailable,
  ErrorCode.logOutcomeUnknown,
  ErrorCode.registryUnavailable,
]);
// Statuses that show the gateway did not handle the call; any other failure may hide a durable write.
const notHandledGrpcStatus = new Set<number>([
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNIMPLEMENTED,
]);
// Answers after which encoding with the subject's latest schema may succeed.
const staleSchemaCodes = new Set<string>([ErrorCode.unknownSchema, ErrorCode.schemaNotInSubject]);

function positive(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new WalError(ErrorCode.invalidConfig, `${option} must be a whole number of 1 or more`, {
      field: option,
    });
  }
  return value;
}

function credentialsFor(tls: ProducerTls | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new WalError(
      ErrorCode.invalidConfig,
      "tls.cert and tls.key go together (mutual TLS): give both or neither",
      { field: tls.cert === undefined ? "tls.cert" : "tls.key" },
    );
  }
  return grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/**
 * The producer SDK: encodes a value with the subject's latest Avro schema
 * through the registry (Confluent wire format), calls WriteToLog, and retries
 * answers that leave the outcome open (UNKNOWN, the gateway unreachable,
 * overloaded, shutting down, the registry unreachable) with the same
 * idempotency key and jittered exponential backoff, so the entry keeps its
 * id. Resolves only when the gateway answered durable TRUE.
 */
export class WalProducer<Value> {
  private readonly client: WalClient;
  private readonly registry: SchemaRegistry;
  private readonly registryBase: string;
  private readonly backoff: BackoffConfig;
  private readonly maxAttempts: number;
  private readonly schemaRefreshMs: number;
  private latest: { id: Promise<number>; atMs: number } | undefined;

  constructor(private readonly options: WalProducerOptions) {
    this.maxAttempts = positive("maxAttempts", options.maxAttempts ?? 6);
    this.backoff = {
      initialMs: positive("initialBackoffMs", options.initialBackoffMs ?? 100),
      maxMs: positive("maxBackoffMs", options.maxBackoffMs ?? 2_000),
      multiplier: 2,
      jitter: true,
    };
    this.schemaRefreshMs = positive("schemaRefreshMs", options.schemaRefreshMs ?? 60_000);
    const { base, auth } = registryEndpoint(options.registryUrl);
    this.registryBase = base;
    this.registry = new SchemaRegistry({ host: base, ...(auth === undefined ? {} : { auth }) });
    this.client = new WalClient(options.gateway, {
      credentials: credentialsFor(options.tls),
      deadlineMs: positive("callDeadlineMs", options.callDeadlineMs ?? 10_000),
    });
  }

  /**
   * Makes `value` durable under `key`. Throws a WalError naming the code when
   * it cannot; its message carries the idempotency key, to retry with later.
   */
  async write(key: string, value: Value, options: ProduceOptions = {}): Promise<ProduceReceipt> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    let schemaId = await this.latestSchemaId(false);
    let payload = await this.encode(schemaId, value);
    let refreshed = false;
    // Once a try may have reached the log, no later answer can say the write is not there.
    let mayBeDurable = false;
    let last: WriteOutcome | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt += 1) {
      last = await this.call({
        namespace: this.options.namespace,
        key,
        payload,
        idempotencyKey,
        ...(options.lifecycle === undefined ? {} : { lifecycle: options.lifecycle }),
        ...(options.target === undefined ? {} : { target: options.target }),
      });
      if (last.durable === "TRUE") {
        return { id: last.id, idempotencyKey, schemaId, attempts: attempt };
      }
      mayBeDurable ||= last.durable === "UNKNOWN";
      if (!refreshed && staleSchemaCodes.has(last.code)) {
        // The subject moved on (a version deleted, a new latest): encode with its latest again.
        refreshed = true;
        schemaId = await this.latestSchemaId(true);
        payload = await this.encode(schemaId, value);
        continue;
      }
      if (last.durable === "FALSE" && !retryableCodes.has(last.code)) break;
      if (attempt < this.maxAttempts) await sleep(backoffDelayMs(this.backoff, attempt));
    }
    throw this.failed(last, idempotencyKey, mayBeDurable);
  }

  private failed(
    last: WriteOutcome | undefined,
    idempotencyKey: string,
    mayBeDurable: boolean,
  ): WalError {
    const code = (last?.code || ErrorCode.logOutcomeUnknown) as ErrorCode;
    const retryable = mayBeDurable || retryableCodes.has(code);
    const advice = mayBeDurable
      ? `a try may have made it durable: retry later with idempotency key '${idempotencyKey}', so it is applied once`
      : retryable
        ? `nothing was written; retry later (idempotency key '${idempotencyKey}')`
        : `nothing was written (idempotency key '${idempotencyKey}')`;
    return new WalError(code, `${last?.message ?? "no answer"}; ${advice}`, {
      canRetry: retryable,
      ...(last === undefined || last.field === "" ? {} : { field: last.field }),
    });
  }

  close(): void {
    this.client.close();
  }

  /**
   * One WriteToLog. A call that failed in transport is UNKNOWN (it may have
   * been handled) unless its status shows the gateway refused it unread.
   */
  private async call(input: WriteInput): Promise<WriteOutcome> {
    try {
      return await this.client.write(input);
    } catch (error) {
      const status = (error as Partial<grpc.ServiceError>).code;
      const unread = status !== undefined && notHandledGrpcStatus.has(status);
      return {
        durable: unread ? "FALSE" : "UNKNOWN",
        id: "",
        code: unread ? ErrorCode.internal : ErrorCode.logOutcomeUnknown,
        field: "",
        message: `the call to the gateway at ${this.options.gateway} failed: ${describeError(error)}`,
      };
    }
  }

  /** The subject's latest schema id, asked again after `schemaRefreshMs` or when `fresh`. */
  private latestSchemaId(fresh: boolean): Promise<number> {
    const now = Date.now();
    if (!fresh && this.latest !== undefined && now - this.latest.atMs < this.schemaRefreshMs) {
      return this.latest.id;
    }
    const id = this.registry.getLatestSchemaId(this.options.subject).catch((error: unknown) => {
      if (this.latest?.id === id) this.latest = undefined;
      throw new WalError(
        ErrorCode.registryUnavailable,
        `cannot find the latest schema of subject '${this.options.subject}' in the registry at ${this.registryBase}: ${describeError(error)}. Register the schema ('wal schema register') and check the registry URL; nothing was written`,
        { cause: error, canRetry: true },
      );
    });
    this.latest = { id, atMs: now };
    return id;
  }

  private async encode(schemaId: number, value: Value): Promise<Buffer> {
    try {
      return await this.registry.encode(schemaId, value);
    } catch (error) {
      const paths = (error as { paths?: string[][] }).paths;
      if (paths !== undefined) {
        const fields = paths.map((path) => path.join(".") || "(the value)");
        throw new WalError(
          ErrorCode.invalidArgument,
          `the value does not match schema id ${schemaId} of subject '${this.options.subject}' at ${fields.join(", ")}; fix those fields`,
          { field: `value.${fields[0] ?? ""}` },
        );
      }
      throw new WalError(
        ErrorCode.registryUnavailable,
        `cannot encode with schema id ${schemaId} from the registry at ${this.registryBase}: ${describeError(error)}`,
        { cause: error, canRetry: true },
      );
    }
  }
}
