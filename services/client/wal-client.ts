import * as grpc from "@grpc/grpc-js";
import {
  loadWalService,
  maxGrpcMessageBytes,
  type WriteToLogRequestWire,
  type WriteToLogResponseWire,
} from "../adapters/grpc/index.ts";

export type Durability = "TRUE" | "FALSE" | "UNKNOWN";

export interface WriteInput {
  namespace: string;
  key: string;
  payload: Buffer | string;
  idempotencyKey?: string;
  lifecycle?: { delayMs?: number; deliverAtMs?: number; ttlMs?: number; jitterMs?: number };
  target?: { name?: string; operation?: "UPSERT" | "DELETE"; resource?: string };
}

export interface WriteOutcome {
  durable: Durability;
  id: string;
  message: string;
  code: string;
  field: string;
}

export interface WalClientOptions {
  /** @default insecure (plaintext); pass grpc.credentials.createSsl(...) for TLS/mTLS. */
  credentials?: grpc.ChannelCredentials;
  /** Per-call deadline. @default 10000 */
  deadlineMs?: number;
}

const durabilityFromWire: Record<WriteToLogResponseWire["durable"], Durability> = {
  DURABILITY_UNSPECIFIED: "UNKNOWN",
  DURABILITY_TRUE: "TRUE",
  DURABILITY_FALSE: "FALSE",
  DURABILITY_UNKNOWN: "UNKNOWN",
};

/** Typed gRPC client of wal.v1.WriteAheadLog. */
export class WalClient {
  private readonly client: grpc.Client & {
    WriteToLog: (
      request: WriteToLogRequestWire,
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null, response?: WriteToLogResponseWire) => void,
    ) => void;
  };
  private readonly deadlineMs: number;

  constructor(address: string, options: WalClientOptions = {}) {
    const Service = loadWalService();
    this.client = new Service(address, options.credentials ?? grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": maxGrpcMessageBytes,
      "grpc.max_receive_message_length": maxGrpcMessageBytes,
    }) as unknown as WalClient["client"];
    this.deadlineMs = options.deadlineMs ?? 10_000;
  }

  /**
   * Calls WriteToLog. Resolves with the gateway's answer (including FALSE and
   * UNKNOWN); rejects only when the call itself failed (gateway unreachable,
   * deadline exceeded), which says nothing about durability.
   */
  write(input: WriteInput, metadata: Record<string, string> = {}): Promise<WriteOutcome> {
    const request: WriteToLogRequestWire = {
      namespace: input.namespace,
      key: input.key,
      payload: typeof input.payload === "string" ? Buffer.from(input.payload) : input.payload,
      idempotency_key: input.idempotencyKey ?? "",
      lifecycle: {
        delay_ms: input.lifecycle?.delayMs ?? 0,
        deliver_at_ms: input.lifecycle?.deliverAtMs ?? 0,
        ttl_ms: input.lifecycle?.ttlMs ?? 0,
        jitter_ms: input.lifecycle?.jitterMs ?? 0,
      },
      target: {
        name: input.target?.name ?? "",
        operation: input.target?.operation === "DELETE" ? "OPERATION_DELETE" : "OPERATION_UPSERT",
        resource: input.target?.resource ?? "",
      },
    };
    const meta = new grpc.Metadata();
    for (const [name, value] of Object.entries(metadata)) meta.set(name, value);
    return new Promise((resolve, reject) => {
      this.client.WriteToLog(
        request,
        meta,
        { deadline: Date.now() + this.deadlineMs },
        (error, response) => {
          if (error !== null || response === undefined) {
            reject(error ?? new Error("empty response"));
            return;
          }
          resolve({ ...response, durable: durabilityFromWire[response.durable] });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
