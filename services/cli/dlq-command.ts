import { type Command, Option } from "commander";
import type { DeadLetterQuery } from "../control-plane/index.ts";
import { answer, type ClientOptions, clientFrom, withClientOptions } from "./namespaces-command.ts";
import { positiveNumber } from "./option-values.ts";

interface FilterOptions {
  id?: string[];
  key?: string;
  code?: string;
  from?: string;
  to?: string;
}

function withFilterOptions(command: Command): Command {
  return command
    .addOption(new Option("--id <entry-id...>", "only these entries"))
    .addOption(new Option("--key <key>", "only entries of this key"))
    .addOption(new Option("--code <code>", "only this reason, e.g. WAL_RETRIES_EXHAUSTED"))
    .addOption(new Option("--from <time>", "dead-lettered at or after this ISO 8601 time"))
    .addOption(new Option("--to <time>", "dead-lettered before this ISO 8601 time"));
}

function filterFrom(options: FilterOptions): DeadLetterQuery {
  return {
    ...(options.id === undefined ? {} : { ids: options.id }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.code === undefined ? {} : { code: options.code }),
    ...(options.from === undefined ? {} : { from: options.from }),
    ...(options.to === undefined ? {} : { to: options.to }),
  };
}

export function registerDlqCommand(program: Command): void {
  const dlq = program
    .command("dlq")
    .description(
      "dead-letter queue tools (through the control plane): list, show, redrive entries, and the redrive audit",
    );

  withFilterOptions(
    withClientOptions(
      dlq
        .command("list")
        .description("list a namespace's dead letters with reason, attempts and trace id")
        .argument("<namespace>")
        .option("--limit <n>", "show at most this many", "100"),
    ),
  ).action((namespace: string, options: ClientOptions & FilterOptions & { limit: string }) =>
    answer(() =>
      clientFrom(options).deadLetters(namespace, {
        ...filterFrom(options),
        limit: positiveNumber(options.limit, "--limit"),
      }),
    ),
  );

  withClientOptions(
    dlq
      .command("show")
      .description("show one dead entry with its whole attempt history")
      .argument("<namespace>")
      .argument("<entry-id>"),
  ).action((namespace: string, id: string, options: ClientOptions) =>
    answer(() => clientFrom(options).deadLetter(namespace, id)),
  );

  withFilterOptions(
    withClientOptions(
      dlq
        .command("redrive")
        .description(
          "send dead letters back to the namespace's log, keeping their ids (targets apply them once); audited",
        )
        .argument("<namespace>")
        .option("--all", "every dead letter (a filter or --all is required)")
        .option("--dry-run", "show what would be redriven, change nothing")
        .option("--rate <per-second>", "entries appended per second at most", "100")
        .option("--include-redriven", "also entries an earlier redrive already took"),
    ),
  ).action(
    (
      namespace: string,
      options: ClientOptions &
        FilterOptions & {
          all?: boolean;
          dryRun?: boolean;
          rate: string;
          includeRedriven?: boolean;
        },
    ) =>
      answer(() =>
        clientFrom(options).redrive(namespace, {
          ...filterFrom(options),
          all: options.all ?? false,
          dryRun: options.dryRun ?? false,
          ratePerSecond: positiveNumber(options.rate, "--rate"),
          includeRedriven: options.includeRedriven ?? false,
        }),
      ),
  );

  withClientOptions(
    dlq
      .command("redrives")
      .description("the redrive audit of a namespace: who redrove what, when, with which filter")
      .argument("<namespace>"),
  ).action((namespace: string, options: ClientOptions) =>
    answer(() => clientFrom(options).redrives(namespace)),
  );
}
