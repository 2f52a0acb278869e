import type { Command } from "commander";
import { createKafka } from "../adapters/kafka/index.ts";
import { benchWrite } from "../bench/index.ts";
import { addSettings, readSettings } from "../config/index.ts";
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
}
