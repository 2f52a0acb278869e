import * as grpc from "@grpc/grpc-js";
import {
  loadWalService,
  maxGrpcMessageBytes,
  type WriteToLogRequestWire,
  type WriteToLogResponseWire,
} from "../adapters/grpc/index.ts";
import { Durability } from "../core/index.ts";
import type { WriteHandler, WriteResult } from "./write-handler.ts";

const durabilityWire: Record<Durability, WriteToLogResponseWire["durable"]> = {
  [Durability.true]: "DURABILITY_TRUE",
  [Durability.false]: "DURABILITY_FALSE",
  [Durability.unknown]: "DURABILITY_UNKNOWN",
};

function toWire(result: WriteResult): WriteToLogResponseWire {
  return { ...result, durable: durabilityWire[result.durable] };
}

function metadataCarrier(metadata: grpc.Metadata): Record<string, string | undefined> {
  const carrier: Record<string, string | undefined> = {};
  for (const name of ["traceparent", "tracestate"]) {
    const value = metadata.get(name)[0];
    if (value !== undefined) carrier[name] = value.toString();
  }
  return carrier;
}

/**
 * The caller's identity when mutual TLS verified its certificate: the
 * certificate's common name. Without a verified certificate there is none.
 */
function clientOf(call: grpc.ServerUnaryCall<unknown, unknown>): { name: string } | undefined {
  const common = call.getAuthContext().sslPeerCertificate?.subject?.CN;
  const name = Array.isArray(common) ? common[0] : common;
  return name === undefined || name === "" ? undefined : { name };
}

/** Serves wal.v1.WriteAheadLog over gRPC (plaintext, TLS or mutual TLS) on the shared write handler. */
export async function startGrpcServer(
  handler: WriteHandler,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials,
  /** Whether the credentials verify client certificates (mutual TLS): only then is a caller named. */
  verifiesClients: boolean,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": maxGrpcMessageBytes,
    "grpc.max_send_message_length": maxGrpcMessageBytes,
  });
  server.addService(loadWalService().service, {
    WriteToLog: (
      call: grpc.ServerUnaryCall<WriteToLogRequestWire, WriteToLogResponseWire>,
      callback: grpc.sendUnaryData<WriteToLogResponseWire>,
    ) => {
      const req = call.request;
      const client = verifiesClients ? clientOf(call) : undefined;
      handler
        .write(
          {
            namespace: req.namespace,
            key: req.key,
            idempotencyKey: req.idempotency_key,
            payload: req.payload,
            lifecycle: {
              delayMs: req.lifecycle?.delay_ms ?? 0,
              deliverAtMs: req.lifecycle?.deliver_at_ms ?? 0,
              ttlMs: req.lifecycle?.ttl_ms ?? 0,
              jitterMs: req.lifecycle?.jitter_ms ?? 0,
            },
            target: {
              name: req.target?.name ?? "",
              operation: String(req.target?.operation ?? "OPERATION_UPSERT").replace(
                /^OPERATION_/,
                "",
              ),
              resource: req.target?.resource ?? "",
            },
            ...(client === undefined ? {} : { client }),
          },
          metadataCarrier(call.metadata),
        )
        .then((result) => callback(null, toWire(result)))
        .catch((error: unknown) => callback(error as grpc.ServiceError));
    },
  });
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port: boundPort,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
