import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { text as streamText } from "node:stream/consumers";
import { type Command, Option } from "commander";
import { ControlPlaneClient, defaultActor } from "../control-plane/index.ts";
import { describeError, ErrorCode, WalError } from "../core/index.ts";
import { failAndExit } from "./run-service.ts";

export interface ClientOptions {
  url: string;
  adminToken?: string;
  actor: string;
}

/** The local user names the actor by default, so the audit trail tells admins apart. */
function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return defaultActor;
  }
}

export function withClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--url <url>", "base URL of the control plane")
        .env("WAL_CONTROL_PLANE_URL")
        .default("http://127.0.0.1:8090"),
    )
    .addOption(
      new Option("--admin-token <token>", "the control plane's admin token").env("WAL_ADMIN_TOKEN"),
    )
    .addOption(
      new Option("--actor <name>", "who makes the change, as the audit trail records it")
        .env("WAL_ACTOR")
        .default(localUser(), "your user name"),
    );
}

export function clientFrom(options: ClientOptions): ControlPlaneClient {
  return new ControlPlaneClient({
    url: options.url,
    adminToken: options.adminToken,
    actor: options.actor,
  });
}

/** Runs a subcommand: prints its answer as JSON, or the error's code and message and exits non-zero. */
export async function answer(work: () => Promise<unknown>): Promise<void> {
  try {
    process.stdout.write(`${JSON.stringify(await work(), null, 2)}\n`);
  } catch (error) {
    failAndExit(error);
  }
}

function versionNumber(value: string, flag: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new WalError(
      ErrorCode.invalidArgument,
      `${flag} must be a version number (1 or more), got '${value}'; 'wal namespaces get <name>' shows the current version, 'wal namespaces history <name>' every version`,
      { field: flag },
    );
  }
  return Number(value);
}

/** Reads one namespace config from a JSON file ('-' for stdin). */
async function readConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    // stdin is read as a stream: opening /dev/stdin fails when it is a socket, as under spawn().
    text = path === "-" ? await streamText(process.stdin) : await readFile(path, "utf8");
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidArgument,
      `cannot read --file ${path}: ${describeError(cause)}`,
      {
        field: "--file",
        cause,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WalError(
      ErrorCode.invalidArgument,
      `--file ${path} is not valid JSON (${describeError(cause)}); it must hold one namespace config object, like an entry of topology/namespaces.json`,
      { field: "--file", cause },
    );
  }
}

const fileHelp = "JSON file holding one namespace config ('-' for stdin)";
const dryRunHelp = "validate and show what would be stored, without storing";
const expectedVersionHelp = "the version you last read; refused if the namespace changed since";

export function registerNamespacesCommand(program: Command): void {
  const namespaces = program
    .command("namespaces")
    .description(
      "manage namespaces through the control plane (every change is versioned and audited)",
    );

  withClientOptions(namespaces.command("list").description("list the namespaces")).action(
    (options: ClientOptions) => answer(() => clientFrom(options).list()),
  );

  withClientOptions(
    namespaces
      .command("get")
      .description("show a namespace's config and version")
      .argument("<name>", "namespace name"),
  ).action((name: string, options: ClientOptions) => answer(() => clientFrom(options).get(name)));

  withClientOptions(
    namespaces
      .command("create")
      .description("create a namespace from a config file")
      .requiredOption("-f, --file <path>", fileHelp)
      .option("--dry-run", dryRunHelp, false),
  ).action((options: ClientOptions & { file: string; dryRun: boolean }) =>
    answer(async () => clientFrom(options).create(await readConfig(options.file), options.dryRun)),
  );

  withClientOptions(
    namespaces
      .command("update")
      .description("replace a namespace's config from a file (its name must stay the same)")
      .argument("<name>", "namespace name")
      .requiredOption("-f, --file <path>", fileHelp)
      .requiredOption("--expected-version <n>", expectedVersionHelp)
      .option("--dry-run", dryRunHelp, false),
  ).action(
    (
      name: string,
      options: ClientOptions & { file: string; expectedVersion: string; dryRun: boolean },
    ) =>
      answer(async () => {
        const expected = versionNumber(options.expectedVersion, "--expected-version");
        const config = await readConfig(options.file);
        return clientFrom(options).update(name, config, expected, options.dryRun);
      }),
  );

  withClientOptions(
    namespaces
      .command("delete")
      .description("delete a namespace (its history stays readable)")
      .argument("<name>", "namespace name")
      .requiredOption("--expected-version <n>", expectedVersionHelp),
  ).action((name: string, options: ClientOptions & { expectedVersion: string }) =>
    answer(async () =>
      clientFrom(options).delete(
        name,
        versionNumber(options.expectedVersion, "--expected-version"),
      ),
    ),
  );

  withClientOptions(
    namespaces
      .command("history")
      .description(
        "show every change of a namespace: version, action, actor, time, before and after",
      )
      .argument("<name>", "namespace name"),
  ).action((name: string, options: ClientOptions) =>
    answer(() => clientFrom(options).history(name)),
  );

  withClientOptions(
    namespaces
      .command("rollback")
      .description("restore the config of an earlier version, as a new version")
      .argument("<name>", "namespace name")
      .requiredOption("--to-version <v>", "the version whose config to restore (see history)")
      .requiredOption("--expected-version <n>", expectedVersionHelp),
  ).action(
    (name: string, options: ClientOptions & { toVersion: string; expectedVersion: string }) =>
      answer(async () =>
        clientFrom(options).rollback(
          name,
          versionNumber(options.toVersion, "--to-version"),
          versionNumber(options.expectedVersion, "--expected-version"),
        ),
      ),
  );
}
