import type { Command } from "commander";
import { createKafka } from "../adapters/kafka/index.ts";
import { PostgresNamespaceStore } from "../adapters/postgres/index.ts";
import {
  addSettings,
  fileNamespaceSource,
  readSettings,
  type SettingName,
  type Settings,
  startControlPlaneNamespaceSource,
} from "../config/index.ts";
import {
  describeError,
  ErrorCode,
  isWalError,
  type NamespaceSource,
  WalError,
} from "../core/index.ts";
import { startGateway } from "../gateway/index.ts";
import { type Logger, serveMetrics } from "../observability/index.ts";
import { Processor } from "../processor/index.ts";
import { runService, type Stoppable } from "./run-service.ts";

export const sourceSettings = ["namespaceSource", "namespaces", "databaseUrl", "natsUrl"] as const;
const gatewaySettings = [
  "kafkaBrokers",
  "shard",
  ...sourceSettings,
  "host",
  "grpcPort",
  "httpPort",
  "writeTimeoutMs",
  "maxInFlight",
  "schemaRegistryUrl",
  "tlsCert",
  "tlsKey",
  "tlsClientCa",
] as const satisfies readonly SettingName[];
const processorSettings = [
  "kafkaBrokers",
  "shard",
  ...sourceSettings,
  "sessionTimeoutMs",
  "metricsPort",
  "metricsHost",
] as const satisfies readonly SettingName[];

/** Kafka failures at start name the brokers and say how to get a broker. */
async function reachingKafka<T>(brokers: string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (cause) {
    if (isWalError(cause)) throw cause;
    throw new WalError(
      ErrorCode.logUnavailable,
      `cannot use Kafka at ${brokers.join(",")} (${describeError(cause)}); start it with 'wal infra up' or point --kafka-brokers (WAL_KAFKA_BROKERS) at a running cluster`,
      { cause },
    );
  }
}

/**
 * The namespaces a service follows, and how to let go of them: a file, or the
 * control plane's store with live changes announced over NATS.
 */
export async function openNamespaceSource(
  settings: Settings<(typeof sourceSettings)[number]>,
  logger: Logger,
): Promise<{ source: NamespaceSource; close: () => Promise<void> }> {
  if (settings.namespaceSource === "file") {
    const source = await fileNamespaceSource(settings.namespaces);
    return { source, close: () => source.close() };
  }
  const store = await PostgresNamespaceStore.openForReading(settings.databaseUrl, logger);
  try {
    const source = await startControlPlaneNamespaceSource({
      store,
      natsUrl: settings.natsUrl,
      logger,
    });
    return {
      source,
      close: async () => {
        await source.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Runs `start` with the namespace source open; the source closes after the service stops. */
async function withNamespaces(
  settings: Settings<(typeof sourceSettings)[number]>,
  logger: Logger,
  start: (source: NamespaceSource) => Promise<Stoppable>,
): Promise<Stoppable> {
  const { source, close } = await openNamespaceSource(settings, logger);
  try {
    const service = await start(source);
    return {
      stop: async () => {
        await service.stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function gateway(options: Record<string, unknown>, logger: Logger): Promise<Stoppable> {
  const settings = readSettings(options, gatewaySettings);
  const kafka = createKafka({ brokers: settings.kafkaBrokers, clientId: "wal-gateway" }, logger);
  return withNamespaces(settings, logger, (namespaces) =>
    reachingKafka(settings.kafkaBrokers, () =>
      startGateway({ ...settings, kafka, namespaces, logger }),
    ),
  );
}

async function processor(options: Record<string, unknown>, logger: Logger): Promise<Stoppable> {
  const settings = readSettings(options, processorSettings);
  const kafka = createKafka({ brokers: settings.kafkaBrokers, clientId: "wal-processor" }, logger);
  const metrics =
    settings.metricsPort > 0
      ? await serveMetrics(settings.metricsHost, settings.metricsPort)
      : undefined;
  if (metrics !== undefined) {
    logger.info(
      { metrics: `http://${settings.metricsHost}:${metrics.port}/metrics` },
      "serving Prometheus metrics",
    );
  }
  return withNamespaces(settings, logger, async (namespaces) => {
    const running = new Processor({
      kafka,
      namespaces,
      shard: settings.shard,
      logger,
      sessionTimeoutMs: settings.sessionTimeoutMs,
      ...(metrics === undefined ? {} : { meter: metrics.meter }),
      onCrash: (namespace, error) => {
        logger.fatal(
          { err: error, namespace },
          `the consumer of namespace '${namespace}' stopped for good (${describeError(error)}); exiting so a supervisor restarts the processor`,
        );
        process.exit(1);
      },
    });
    await reachingKafka(settings.kafkaBrokers, () => running.start());
    return {
      async stop() {
        await running.stop();
        await metrics?.stop();
      },
    };
  });
}

export function registerServiceCommands(program: Command): void {
  addSettings(
    program
      .command("gateway")
      .description("serve WriteToLog over gRPC and HTTP/JSON, appending to Kafka")
      .action((options: Record<string, unknown>) =>
        runService("gateway", (logger) => gateway(options, logger)),
      ),
    gatewaySettings,
  );

  addSettings(
    program
      .command("processor")
      .description("consume namespaces' logs and deliver each entry to its target in key order")
      .action((options: Record<string, unknown>) =>
        runService("processor", (logger) => processor(options, logger)),
      ),
    processorSettings,
  );

  addSettings(
    program
      .command("start")
      .description(
        "run a gateway and a processor in one process (local use and small installations)",
      )
      .action((options: Record<string, unknown>) =>
        runService("wal", async (logger) => {
          const deliver = await processor(options, logger);
          const serve = await gateway(options, logger);
          return {
            // The gateway first: it stops taking writes; the processor then finishes delivering.
            stop: async () => {
              await serve.stop();
              await deliver.stop();
            },
          };
        }),
      ),
    [...new Set([...gatewaySettings, ...processorSettings])],
  );
}
