import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { Kafka } from "kafkajs";
import { createKafka } from "../adapters/kafka/index.ts";
import { createNamespaceChangePublisher } from "../adapters/nats/index.ts";
import { PostgresNamespaceStore } from "../adapters/postgres/index.ts";
import { benchAvro, benchDelay, benchWrite, formatTable, percentile } from "../bench/index.ts";
import {
  addSettings,
  measureConfigPropagation,
  readSettings,
  startControlPlaneNamespaceSource,
} from "../config/index.ts";
import { announcingStore } from "../control-plane/index.ts";
import { parseDuration } from "../core/index.ts";
import { createLogger } from "../observability/index.ts";
import { failAndExit } from "./run-service.ts";

function positiveInts(flag: string, value: string): number[] {
  const numbers = value.split(",").map((v) => Number(v.trim()));
  if (numbers.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${flag} must be positive integers separated by commas, got '${value}'`);
  }
  return numbers;
}

function durations(flag: string, value: string): number[] {
  const parsed = value.split(",").map((v) => parseDuration(v));
  if (parsed.some((ms) => ms === undefined || ms < 1)) {
    throw new Error(
      `${flag} must be durations such as 500ms, 5s, 1m separated by commas, got '${value}'`,
    );
  }
  return parsed as number[];
}

/** The first of a list of positive integers (split always yields one). */
function positiveInt(flag: string, value: string | undefined): number {
  return positiveInts(flag, value ?? "")[0] as number;
}

/** The first of a list of durations (split always yields one). */
function duration(flag: string, value: string | undefined): number {
  return durations(flag, value ?? "")[0] as number;
}

/** Runs a benchmark against Kafka: its progress goes to stderr, its table to stdout. */
async function runKafkaBench(
  options: Record<string, string>,
  bench: (
    kafka: Kafka,
    kafkaBrokers: string[],
    progress: (line: string) => void,
  ) => Promise<string>,
): Promise<void> {
  try {
    const { kafkaBrokers } = readSettings(options, ["kafkaBrokers"]);
    const kafka = createKafka(
      { brokers: kafkaBrokers, clientId: "wal-bench" },
      createLogger("bench", "warn"),
    );
    const table = await bench(kafka, kafkaBrokers, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${table}\n`);
  } catch (error) {
    failAndExit(error);
  }
}

const redisScript = fileURLToPath(new URL("../../infra/redis.sh", import.meta.url));

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
      .action((options: Record<string, string>) =>
        runKafkaBench(options, (kafka, kafkaBrokers, progress) => {
          const writes = positiveInt("--writes", options.writes);
          const payloadBytes = positiveInt("--payload-bytes", options.payloadBytes);
          const partitions = positiveInt("--partitions", options.partitions);
          return benchWrite(
            {
              kafka,
              kafkaBrokers,
              concurrencies: positiveInts("--concurrency", options.concurrency ?? ""),
              writesPerLevel: writes,
              payloadBytes,
              partitions,
            },
            progress,
          );
        }),
      ),
    ["kafkaBrokers"],
  );

  addSettings(
    bench
      .command("avro")
      .description(
        "WriteToLog of Avro payloads checked against the schema registry (a control plane it starts) vs the same bytes to a namespace without a payload subject, and the WalProducer SDK",
      )
      .option("--concurrency <list>", "concurrent writers per level", "1,16,64")
      .option("--writes <n>", "writes per level and system (bounded load)", "3000")
      .option(
        "--note-chars <n>",
        "length of the record's text field (sets the payload size)",
        "200",
      )
      .option("--partitions <n>", "partitions of both namespaces", "6")
      .action((options: Record<string, string>) =>
        runKafkaBench(options, (kafka, kafkaBrokers, progress) => {
          const writes = positiveInt("--writes", options.writes);
          const noteChars = positiveInt("--note-chars", options.noteChars);
          const partitions = positiveInt("--partitions", options.partitions);
          const { databaseUrl } = readSettings(options, ["databaseUrl"]);
          return benchAvro(
            {
              kafka,
              kafkaBrokers,
              databaseUrl,
              concurrencies: positiveInts("--concurrency", options.concurrency ?? ""),
              writesPerLevel: writes,
              noteChars,
              partitions,
            },
            progress,
          );
        }),
      ),
    ["kafkaBrokers", "databaseUrl"],
  );

  addSettings(
    bench
      .command("delay")
      .description(
        "delayed delivery lateness (arrival minus due time) of WAL vs BullMQ delayed jobs for the same delays; starts the local Redis (infra/redis.sh) for BullMQ",
      )
      .option("--entries <n>", "delayed entries (and jobs)", "3000")
      .option("--min-delay <duration>", "shortest delay", "500ms")
      .option("--max-delay <duration>", "longest delay; delays spread evenly between", "40s")
      .option("--tiers <list>", "retry tiers of WAL's benchmark namespace", "1s,5s,20s")
      .option("--concurrency <n>", "writes (and BullMQ worker slots) at once", "32")
      .option("--redis-url <url>", "Redis for BullMQ", "redis://127.0.0.1:6379")
      .action((options: Record<string, string>) =>
        runKafkaBench(options, (kafka, kafkaBrokers, progress) => {
          const entries = positiveInt("--entries", options.entries);
          const concurrency = positiveInt("--concurrency", options.concurrency);
          const minDelayMs = duration("--min-delay", options.minDelay);
          const maxDelayMs = duration("--max-delay", options.maxDelay);
          if (maxDelayMs < minDelayMs) {
            throw new Error("--max-delay cannot be shorter than --min-delay");
          }
          const redis = spawnSync("bash", [redisScript, "start"], { stdio: "inherit" });
          if (redis.status !== 0) throw new Error("could not start Redis with infra/redis.sh");
          return benchDelay(
            {
              kafka,
              kafkaBrokers,
              redisUrl: options.redisUrl ?? "",
              entries,
              minDelayMs: minDelayMs,
              maxDelayMs: maxDelayMs,
              tiersMs: durations("--tiers", options.tiers ?? ""),
              concurrency,
            },
            progress,
          );
        }),
      ),
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
          const changes = positiveInt("--changes", options.changes);
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
                changes,
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
