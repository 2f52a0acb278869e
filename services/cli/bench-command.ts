import type { Command } from "commander";
import { createKafka } from "../adapters/kafka/index.ts";
import { createNamespaceChangePublisher } from "../adapters/nats/index.ts";
import { PostgresNamespaceStore } from "../adapters/postgres/index.ts";
import { benchWrite, formatTable, percentile } from "../bench/index.ts";
import {
  addSettings,
  measureConfigPropagation,
  readSettings,
  startControlPlaneNamespaceSource,
} from "../config/index.ts";
import { announcingStore } from "../control-plane/index.ts";
import { createLogger } from "../observability/index.ts";
import { failAndExit } from "./run-service.ts";

function positiveInts(flag: string, value: string): number[] {
  const numbers = value.split(",").map((v) => Number(v.trim()));
  if (numbers.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${flag} must be positive integers separated by commas, got '${value}'`);
  }
  return numbers;
}

export function registerBenchCommand(program: Command): void {
  const bench = program
    .command("bench")
    .description("measure WAL against a baseline in the same run; prints a table");
  addSettings(
    bench
      .command("write")
      .description(
        "WriteToLog throughput and durable latency over gRPC vs a raw kafkajs producer (idempotent, acks=all)",
      )
      .option("--concurrency <list>", "concurrent writers per level", "1,16,64")
      .option("--writes <n>", "writes per level and system (bounded load)", "5000")
      .option("--payload-bytes <n>", "payload size", "256")
      .option("--partitions <n>", "partitions of both topics", "6")
      .action(async (options: Record<string, string>) => {
        try {
          const { kafkaBrokers } = readSettings(options, ["kafkaBrokers"]);
          const [writes] = positiveInts("--writes", options.writes ?? "");
          const [payloadBytes] = positiveInts("--payload-bytes", options.payloadBytes ?? "");
          const [partitions] = positiveInts("--partitions", options.partitions ?? "");
          const logger = createLogger("bench", "warn");
          const table = await benchWrite(
            {
              kafka: createKafka({ brokers: kafkaBrokers, clientId: "wal-bench" }, logger),
              kafkaBrokers,
              concurrencies: positiveInts("--concurrency", options.concurrency ?? ""),
              writesPerLevel: writes as number,
              payloadBytes: payloadBytes as number,
              partitions: partitions as number,
            },
            (line) => process.stderr.write(`${line}\n`),
          );
          process.stdout.write(`${table}\n`);
        } catch (error) {
          failAndExit(error);
        }
      }),
    ["kafkaBrokers"],
  );

  addSettings(
    bench
      .command("config")
      .description(
        "time from a committed namespace change to a namespace source applying it (PostgreSQL + NATS); creates, changes and deletes a namespace 'bench-config-…', so point it at a database no production service follows",
      )
      .option("--changes <n>", "changes made one after another", "50")
      .action(async (options: Record<string, string>) => {
        try {
          const { natsUrl, databaseUrl } = readSettings(options, ["natsUrl", "databaseUrl"]);
          const [changes] = positiveInts("--changes", options.changes ?? "");
          const logger = createLogger("bench", "warn");
          const { store } = await PostgresNamespaceStore.open(databaseUrl, logger);
          const publisher = createNamespaceChangePublisher({ url: natsUrl, name: "wal-bench" });
          try {
            await publisher.ready();
            const source = await startControlPlaneNamespaceSource({ store, natsUrl, logger });
            try {
              const latencies = await measureConfigPropagation({
                store: announcingStore(store, (c) => publisher.publishNamespaceChanged(c), logger),
                source,
                namespace: {
                  name: `bench-config-${Date.now().toString(36)}`,
                  targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
                  defaultTarget: "cache",
                },
                changes: changes as number,
              });
              latencies.sort((a, b) => a - b);
              const ms = (p: number) => percentile(latencies, p).toFixed(2);
              const row = [String(latencies.length), ms(50), ms(99), ms(100)];
              process.stdout.write(
                `${formatTable(["changes", "p50 ms", "p99 ms", "max ms"], [row])}\n`,
              );
            } finally {
              await source.close();
            }
          } finally {
            await publisher.close();
            await store.close();
          }
        } catch (error) {
          failAndExit(error);
        }
      }),
    ["natsUrl", "databaseUrl"],
  );
}
