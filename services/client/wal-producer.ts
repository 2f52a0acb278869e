import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { registryEndpoint } from "../adapters/schema-registry/index.ts";
import { describeError, ErrorCode, WalError } from "../core/index.ts";
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
const retryableGrpcStatus = new Set<number>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.RESOURCE_EXHAUSTED,
]);

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
 * The producer SDK: encodes a value with the namespace's Avro schema through
 * the registry (Confluent wire format), calls WriteToLog, and retries answers
 * that leave the outcome open (UNKNOWN, the gateway unreachable, overloaded or
 * shutting down) with the same idempotency key, so the entry keeps its id and
 * is applied once. Resolves only when the gateway answered durable TRUE.
 */
export class WalProducer<Value> {
  private readonly client: WalClient;
  private readonly registry: SchemaRegistry;
  private readonly registryShown: string;
  private schemaId: Promise<number> | undefined;

  constructor(private readonly options: WalProducerOptions) {
    const endpoint = registryEndpoint(options.registryUrl);
    this.registryShown = endpoint.shown;
    this.registry = new SchemaRegistry({
      host: endpoint.base,
      ...(endpoint.auth === undefined ? {} : { auth: endpoint.auth }),
    });
    this.client = new WalClient(options.gateway, {
      credentials: credentialsFor(options.tls),
      deadlineMs: options.callDeadlineMs ?? 10_000,
    });
  }

  /** Makes `value` durable under `key`; throws a WalError naming the code when it cannot. */
  async write(key: string, value: Value, options: ProduceOptions = {}): Promise<ProduceReceipt> {
    const schemaId = await this.latestSchemaId();
    const payload = await this.encode(schemaId, value);
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const input: WriteInput = {
      namespace: this.options.namespace,
      key,
      payload,
      idempotencyKey,
      ...(options.lifecycle === undefined ? {} : { lifecycle: options.lifecycle }),
      ...(options.target === undefined ? {} : { target: options.target }),
    };
    const maxAttempts = this.options.maxAttempts ?? 6;
    let backoffMs = this.options.initialBackoffMs ?? 100;
    let last: WalError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const outcome = await this.call(input);
      if (outcome.durable === "TRUE") {
        return { id: outcome.id, idempotencyKey, schemaId, attempts: attempt };
      }
      last = new WalError(
        (outcome.code || ErrorCode.logOutcomeUnknown) as ErrorCode,
        outcome.message,
        {
          ...(outcome.field === "" ? {} : { field: outcome.field }),
          canRetry: outcome.durable === "UNKNOWN" || retryableCodes.has(outcome.code),
        },
      );
      if (!last.canRetry) throw last;
      if (attempt < maxAttempts) {
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.options.maxBackoffMs ?? 2_000);
      }
    }
    throw new WalError(
      last?.code ?? ErrorCode.logOutcomeUnknown,
      `not confirmed durable after ${maxAttempts} tries (last: ${last?.message}); the entry may be in the log. Retry later with idempotency key '${idempotencyKey}' so it is applied once`,
      { canRetry: true, ...(last?.field === undefined ? {} : { field: last.field }) },
    );
  }

  close(): void {
    this.client.close();
  }

  /** One WriteToLog; a call that failed in transport is an UNKNOWN or FALSE answer by its status. */
  private async call(input: WriteInput): Promise<WriteOutcome> {
    try {
      return await this.client.write(input);
    } catch (error) {
      const status = (error as Partial<grpc.ServiceError>).code;
      const retryable = status !== undefined && retryableGrpcStatus.has(status);
      return {
        durable: retryable ? "UNKNOWN" : "FALSE",
        id: "",
        code: retryable ? ErrorCode.logOutcomeUnknown : ErrorCode.internal,
        field: "",
        message: `the call to the gateway at ${this.options.gateway} failed: ${describeError(error)}`,
      };
    }
  }

  private latestSchemaId(): Promise<number> {
    this.schemaId ??= this.registry.getLatestSchemaId(this.options.subject).catch((error) => {
      this.schemaId = undefined;
      throw new WalError(
        ErrorCode.registryUnavailable,
        `cannot find the latest schema of subject '${this.options.subject}' in the registry at ${this.registryShown}: ${describeError(error)}. Register the schema ('wal schema register') and check the registry URL`,
        { cause: error, canRetry: true },
      );
    });
    return this.schemaId;
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
        `cannot encode with schema id ${schemaId} from the registry at ${this.registryShown}: ${describeError(error)}`,
        { cause: error, canRetry: true },
      );
    }
  }
}
