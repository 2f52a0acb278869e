import type { Kafka } from "kafkajs";
import {
  createIdempotentProducer,
  ensureNamespaceTopics,
  KafkaLogAppender,
  RecyclingProducer,
} from "../adapters/kafka/index.ts";
import type { NamespaceConfig } from "../core/index.ts";
import type { Logger } from "../observability/index.ts";
import { startGrpcServer } from "./grpc-server.ts";
import { startHttpServer } from "./http-server.ts";
import { WriteHandler } from "./write-handler.ts";

export interface GatewayOptions {
  kafka: Kafka;
  namespaces: NamespaceConfig[];
  logger: Logger;
  host: string;
  grpcPort: number;
  httpPort: number;
  writeTimeoutMs: number;
  maxInFlight: number;
}

export interface RunningGateway {
  grpcPort: number;
  httpPort: number;
  /** Stops taking writes, answers every write in flight, then closes. */
  stop(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { kafka, logger } = options;
  await ensureNamespaceTopics(kafka, options.namespaces);
  const producer = new RecyclingProducer(() => createIdempotentProducer(kafka));
  await producer.connect();
  const appender = new KafkaLogAppender(producer);
  const byName = new Map(options.namespaces.map((ns) => [ns.name, ns]));
  for (const ns of options.namespaces.filter((n) => n.replicationFactor < 2)) {
    logger.warn(
      { namespace: ns.name },
      "replicationFactor is 1: an acknowledged entry has a single copy; use 3 in production",
    );
  }
  const handler = new WriteHandler((name) => byName.get(name), appender, options, logger);

  let ready = true;
  const grpcServer = await startGrpcServer(handler, options.host, options.grpcPort);
  const httpServer = await startHttpServer(handler, options.host, options.httpPort, () => ready);
  logger.info(
    {
      grpc: `${options.host}:${grpcServer.port}`,
      http: `${options.host}:${httpServer.port}`,
      namespaces: [...byName.keys()],
    },
    "gateway serving",
  );

  return {
    grpcPort: grpcServer.port,
    httpPort: httpServer.port,
    async stop() {
      ready = false;
      await handler.drain();
      await Promise.all([grpcServer.stop(), httpServer.stop()]);
      await appender.close();
      await producer.disconnect();
      logger.info("gateway stopped");
    },
  };
}
