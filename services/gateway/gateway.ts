import type { Kafka } from "kafkajs";
import {
  createIdempotentProducer,
  ensureNamespaceTopics,
  KafkaLogAppender,
  RecyclingProducer,
} from "../adapters/kafka/index.ts";
import { RegistryPayloadSchemas } from "../adapters/schema-registry/index.ts";
import { ErrorCode, type NamespaceConfig, type NamespaceSource, WalError } from "../core/index.ts";
import type { Logger } from "../observability/index.ts";
import { startGrpcServer } from "./grpc-server.ts";
import { startHttpServer } from "./http-server.ts";
import { type GatewayTlsFiles, grpcServerCredentials } from "./tls.ts";
import { WriteHandler } from "./write-handler.ts";

export interface GatewayOptions extends GatewayTlsFiles {
  kafka: Kafka;
  namespaces: NamespaceSource;
  /** Only namespaces of this shard are served; writes to others get WAL_WRONG_SHARD. */
  shard: string;
  logger: Logger;
  host: string;
  grpcPort: number;
  httpPort: number;
  writeTimeoutMs: number;
  maxInFlight: number;
  /** The Confluent-compatible registry that namespaces declaring a payload subject are checked against. */
  schemaRegistryUrl: string;
}

export interface RunningGateway {
  grpcPort: number;
  httpPort: number;
  /** Stops taking writes, answers every write in flight, then closes. */
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { kafka, logger } = options;
  // Bad TLS files are found before anything is opened.
  const tls = await grpcServerCredentials(options);
  // A namespace takes writes only once its topic exists: a write to a missing topic could only
  // end UNKNOWN after the producer's retries.
  const writable = new Set<string>();
  const open = async (configs: NamespaceConfig[]) => {
    await ensureNamespaceTopics(kafka, configs);
    for (const ns of configs) {
      writable.add(ns.name);
      if (ns.replicationFactor < 2) {
        logger.warn(
          { namespace: ns.name },
          "replicationFactor is 1: an acknowledged entry has a single copy; use 3 in production",
        );
      }
    }
  };
  const ours = (ns: NamespaceConfig) => ns.shard === options.shard;
  const stopUpdates = options.namespaces.onUpdate((update) => {
    if (update.config === null || !ours(update.config)) writable.delete(update.name);
    else if (!writable.has(update.name)) {
      open([update.config]).catch((error: unknown) =>
        logger.error(
          { err: error, namespace: update.name },
          "could not create the new namespace's topic; its writes are refused until a restart",
        ),
      );
    }
  });
  // The listener is in place before the current namespaces are read: one created meanwhile is not missed.
  await open(
    options.namespaces
      .all()
      .map((ns) => ns.config)
      .filter(ours),
  );
  const producer = new RecyclingProducer(() => createIdempotentProducer(kafka));
  await producer.connect();
  const appender = new KafkaLogAppender(producer);
  const lookup = (name: string): NamespaceConfig | undefined => {
    const config = options.namespaces.get(name)?.config;
    if (config !== undefined && !ours(config)) {
      throw new WalError(
        ErrorCode.wrongShard,
        `namespace '${name}' is served by shard '${config.shard}', not by this gateway (shard '${options.shard}'); send its writes to that shard's gateways`,
        { field: "namespace" },
      );
    }
    if (config !== undefined && !writable.has(name)) {
      throw new WalError(
        ErrorCode.logUnavailable,
        `namespace '${name}' is new and its log is still being set up; nothing was written. Retry shortly`,
        { field: "namespace", canRetry: true },
      );
    }
    return config;
  };
  const payloadSchemas = new RegistryPayloadSchemas({ url: options.schemaRegistryUrl });
  const handler = new WriteHandler(lookup, appender, { ...options, payloadSchemas }, logger);

  let ready = true;
  const grpcServer = await startGrpcServer(
    handler,
    options.host,
    options.grpcPort,
    tls.credentials,
    tls.mode === "mutual-tls",
  );
  const httpServer = await startHttpServer(handler, options.host, options.httpPort, () => ready);
  logger.info(
    {
      grpc: `${options.host}:${grpcServer.port}`,
      grpcTls: tls.mode,
      http: `${options.host}:${httpServer.port}`,
      shard: options.shard,
      namespaces: [...writable],
    },
    "gateway serving",
  );

  return {
    grpcPort: grpcServer.port,
    httpPort: httpServer.port,
    async stop() {
      ready = false;
      stopUpdates();
      await handler.drain();
      await Promise.all([grpcServer.stop(), httpServer.stop()]);
      await appender.close();
      await producer.disconnect();
      logger.info("gateway stopped");
    },
  };
}
