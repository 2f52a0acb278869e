import type { Command } from "commander";
import { createKafka, ensureNamespaceTopics } from "../adapters/kafka/index.ts";
import {
  addSettings,
  loadNamespacesFile,
  readSettings,
  type SettingName,
} from "../config/index.ts";
import { describeError, ErrorCode, isWalError, WalError } from "../core/index.ts";
import { startGateway } from "../gateway/index.ts";
import { createLogger, type Logger } from "../observability/index.ts";
import { Processor } from "../processor/index.ts";
import { failAndExit, runService, type Stoppable } from "./run-service.ts";

const gatewaySettings = [
  "kafkaBrokers",
  "namespaces",
  "host",
  "grpcPort",
  "httpPort",
  "writeTimeoutMs",
  "maxInFlight",
] as const satisfies readonly SettingName[];
const processorSettings = [
  "kafkaBrokers",
  "namespaces",
  "partitionConcurrency",
  "sessionTimeoutMs",
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

async function gateway(options: Record<string, unknown>, logger: Logger): Promise<Stoppable> {
  const settings = readSettings(options, gatewaySettings);
  const namespaces = await loadNamespacesFile(settings.namespaces);
  const kafka = createKafka({ brokers: settings.kafkaBrokers, clientId: "wal-gateway" }, logger);
  return reachingKafka(settings.kafkaBrokers, () =>
    startGateway({ ...settings, kafka, namespaces, logger }),
  );
}

async function processor(options: Record<string, unknown>, logger: Logger): Promise<Stoppable> {
  const settings = readSettings(options, processorSettings);
  const namespaces = await loadNamespacesFile(settings.namespaces);
  const kafka = createKafka({ brokers: settings.kafkaBrokers, clientId: "wal-processor" }, logger);
  const running = new Processor({
    kafka,
    namespaces,
    logger,
    partitionsConsumedConcurrently: settings.partitionConcurrency,
    sessionTimeoutMs: settings.sessionTimeoutMs,
    onCrash: (namespace, error) => {
      logger.fatal(
        { err: error, namespace },
        `the consumer of namespace '${namespace}' stopped for good (${describeError(error)}); exiting so a supervisor restarts the processor`,
      );
      process.exit(1);
    },
  });
  await reachingKafka(settings.kafkaBrokers, async () => {
    await ensureNamespaceTopics(kafka, namespaces);
    await running.start();
  });
  return running;
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
          const running = [await processor(options, logger), await gateway(options, logger)];
          return {
            stop: async () => void (await Promise.all(running.reverse().map((s) => s.stop()))),
          };
        }),
      ),
    [...new Set([...gatewaySettings, ...processorSettings])],
  );

  addSettings(
    program
      .command("topology")
      .description("make Kafka match the namespaces file")
      .command("apply")
      .description("create each namespace's log topic that is missing (idempotent)")
      .action(async (options: Record<string, unknown>) => {
        try {
          const settings = readSettings(options, ["kafkaBrokers", "namespaces"]);
          const namespaces = await loadNamespacesFile(settings.namespaces);
          const kafka = createKafka(
            { brokers: settings.kafkaBrokers, clientId: "wal-topology" },
            createLogger("topology"),
          );
          const created = await ensureNamespaceTopics(kafka, namespaces);
          process.stdout.write(
            created.length === 0
              ? "topology up to date: nothing to create\n"
              : `created topics: ${created.join(", ")}\n`,
          );
        } catch (error) {
          failAndExit(error);
        }
      }),
    ["kafkaBrokers", "namespaces"],
  );
}
