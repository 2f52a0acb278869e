import { Command } from "commander";
import { registerBenchCommand } from "./bench-command.ts";
import { registerControlPlaneCommand } from "./control-plane-command.ts";
import { registerDlqCommand } from "./dlq-command.ts";
import { registerInfraCommand } from "./infra-command.ts";
import { registerNamespacesCommand } from "./namespaces-command.ts";
import { registerReplayCommand } from "./replay-command.ts";
import { registerSchemaCommand } from "./schema-command.ts";
import { registerServiceCommands } from "./service-commands.ts";
import { registerTopologyCommand } from "./topology-command.ts";
import { registerWriteCommand } from "./write-command.ts";

const program = new Command("wal")
  .description(
    "WAL: a write-ahead log platform. Writes become durable in Kafka, then reach their targets.",
  )
  .showHelpAfterError()
  .enablePositionalOptions();

registerServiceCommands(program);
registerTopologyCommand(program);
registerWriteCommand(program);
registerInfraCommand(program);
registerBenchCommand(program);
registerControlPlaneCommand(program);
registerNamespacesCommand(program);
registerDlqCommand(program);
registerReplayCommand(program);
registerSchemaCommand(program);

await program.parseAsync(process.argv);
