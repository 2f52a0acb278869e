import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { WalClient, type WriteOutcome } from "../client/index.ts";
import { addSettings, readSettings } from "../config/index.ts";
import { failAndExit } from "./run-service.ts";

const grpcDeadlineExceeded = 4;
const grpcUnavailable = 14;
const exitCodeByDurability = { TRUE: 0, FALSE: 1, UNKNOWN: 3 } as const;

interface WriteOptions {
  key: string;
  text?: string;
  file?: string;
  idempotencyKey: string;
  target: string;
  operation: "UPSERT" | "DELETE";
  resource: string;
  ttlMs: string;
}

export function registerWriteCommand(program: Command): void {
  addSettings(
    program
      .command("write")
      .description(
        "append one entry with WriteToLog and print the answer (exit 0 TRUE, 1 FALSE, 3 UNKNOWN)",
      )
      .argument("<namespace>", "namespace to write to")
      .requiredOption("-k, --key <key>", "entry key (ordering and actor scope)")
      .option("-t, --text <text>", "payload as UTF-8 text")
      .option("-f, --file <path>", "payload read from a file ('-' for stdin)")
      .option("--idempotency-key <key>", "retries with the same key yield the same entry id", "")
      .option("--target <name>", "one of the namespace's targets (default: its defaultTarget)", "")
      .addOption(
        new Option("--operation <op>", "what the target does")
          .choices(["UPSERT", "DELETE"])
          .default("UPSERT"),
      )
      .option("--resource <name>", "where in the target (default: the key)", "")
      .option("--ttl-ms <ms>", "drop the entry if not delivered within this time", "0")
      .action(async (namespace: string, options: WriteOptions & Record<string, unknown>) => {
        try {
          const { gateway } = readSettings(options, ["gateway"]);
          if (options.text !== undefined && options.file !== undefined) {
            throw new Error("give the payload with --text or --file, not both");
          }
          const payload =
            options.file === undefined
              ? Buffer.from(options.text ?? "")
              : await readFile(options.file === "-" ? "/dev/stdin" : options.file);
          const ttlMs = Number(options.ttlMs);
          if (!Number.isInteger(ttlMs) || ttlMs < 0)
            throw new Error(`--ttl-ms must be a non-negative integer, got '${options.ttlMs}'`);
          const client = new WalClient(gateway);
          try {
            const outcome = await client
              .write({
                namespace,
                key: options.key,
                payload,
                idempotencyKey: options.idempotencyKey,
                lifecycle: { ttlMs },
                target: {
                  name: options.target,
                  operation: options.operation,
                  resource: options.resource,
                },
              })
              .catch((error: { code?: number }): WriteOutcome => {
                if (error.code === grpcDeadlineExceeded) {
                  return {
                    durable: "UNKNOWN",
                    id: "",
                    code: "WAL_LOG_OUTCOME_UNKNOWN",
                    field: "",
                    message:
                      "no answer within the deadline; the write may be durable. Retry with the same --idempotency-key",
                  };
                }
                if (error.code !== grpcUnavailable) throw error;
                throw new Error(
                  `no gateway answers at ${gateway}; start one with 'wal start', or point --gateway (WAL_GATEWAY) at one`,
                );
              });
            process.stdout.write(`${JSON.stringify(outcome)}\n`);
            process.exitCode = exitCodeByDurability[outcome.durable];
          } finally {
            client.close();
          }
        } catch (error) {
          failAndExit(error);
        }
      }),
    ["gateway"],
  );
}
