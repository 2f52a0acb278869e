import type { Command } from "commander";
import { createKafka } from "../adapters/kafka/index.ts";
import { addSettings, readSettings } from "../config/index.ts";
import { ErrorCode, WalError } from "../core/index.ts";
import { createLogger } from "../observability/index.ts";
import { parseStartOffsets, replayLog } from "../replay/index.ts";
import { positiveNumber } from "./option-values.ts";
import { failAndExit } from "./run-service.ts";
import { openNamespaceSource, sourceSettings } from "./service-commands.ts";

interface ReplayOptions {
  fromTime?: string;
  fromOffset?: string;
  skip?: string[];
  dryRun?: boolean;
  rate: string;
}

export function registerReplayCommand(program: Command): void {
  addSettings(
    program
      .command("replay")
      .description(
        "re-apply a namespace's log to its targets from a time or offsets up to the log's end now, skipping named entries (repair a target after a bad write or a restore); prints what it did",
      )
      .argument("<namespace>")
      .option(
        "--from-time <time>",
        "start at the first entry written at or after this ISO 8601 time",
      )
      .option(
        "--from-offset <offsets>",
        "start at this offset in every partition, or at partition:offset pairs (0:1200,3:950)",
      )
      .option("--skip <entry-id...>", "entries to leave out")
      .option("--dry-run", "count what would be applied, apply nothing")
      .option("--rate <per-second>", "entries applied per second at most", "500")
      .action(async (name: string, options: ReplayOptions & Record<string, unknown>) => {
        const logger = createLogger("replay", "warn");
        try {
          const settings = readSettings(options, ["kafkaBrokers", ...sourceSettings]);
          const rate = positiveNumber(options.rate, "--rate");
          if ((options.fromTime === undefined) === (options.fromOffset === undefined)) {
            throw new WalError(
              ErrorCode.invalidArgument,
              "give where the replay starts: --from-time or --from-offset (one of them)",
              { field: "--from-time" },
            );
          }
          const fromTimeMs =
            options.fromTime === undefined ? undefined : Date.parse(options.fromTime);
          if (fromTimeMs !== undefined && Number.isNaN(fromTimeMs)) {
            throw new WalError(
              ErrorCode.invalidArgument,
              `--from-time must be an ISO 8601 time such as 2026-11-26T12:00:00Z, got '${options.fromTime}'`,
              { field: "--from-time" },
            );
          }
          const { source, close } = await openNamespaceSource(settings, logger);
          try {
            const namespace = source.get(name)?.config;
            if (namespace === undefined) {
              throw new WalError(
                ErrorCode.namespaceNotFound,
                `namespace '${name}' does not exist in the namespace source; check its name ('wal namespaces list')`,
                { field: "namespace" },
              );
            }
            const result = await replayLog({
              kafka: createKafka(
                { brokers: settings.kafkaBrokers, clientId: "wal-replay" },
                logger,
              ),
              namespace,
              start:
                fromTimeMs !== undefined
                  ? { timeMs: fromTimeMs }
                  : {
                      offsets: parseStartOffsets(
                        options.fromOffset as string,
                        namespace.partitions,
                      ),
                    },
              skip: new Set(options.skip ?? []),
              dryRun: options.dryRun ?? false,
              ratePerSecond: rate,
              logger,
            });
            process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            if (result.failed.length > 0) process.exitCode = 1;
          } finally {
            await close();
          }
        } catch (error) {
          failAndExit(error);
        }
      }),
    ["kafkaBrokers", ...sourceSettings],
  );
}
