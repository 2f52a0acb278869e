import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export const walProtoPath = new URL("../../../schemas/proto/wal/v1/wal.proto", import.meta.url);

/** Wire shapes of wal.v1 as @grpc/proto-loader presents them (longs as numbers, enums as names). */
export interface WriteToLogRequestWire {
  namespace: string;
  lifecycle: { delay_ms: number; deliver_at_ms: number; ttl_ms: number; jitter_ms: number } | null;
  payload: Buffer;
  target: {
    name: string;
    operation: "OPERATION_UPSERT" | "OPERATION_DELETE";
    resource: string;
  } | null;
  key: string;
  idempotency_key: string;
}

export interface WriteToLogResponseWire {
  durable: "DURABILITY_UNSPECIFIED" | "DURABILITY_TRUE" | "DURABILITY_FALSE" | "DURABILITY_UNKNOWN";
  message: string;
  id: string;
  code: string;
  field: string;
}

/** Largest gRPC message either side accepts; the namespace limit decides what is allowed. */
export const maxGrpcMessageBytes = 16 * 1024 * 1024;

export function loadWalService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(walProtoPath.pathname, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    wal: { v1: { WriteAheadLog: grpc.ServiceClientConstructor } };
  };
  return loaded.wal.v1.WriteAheadLog;
}
