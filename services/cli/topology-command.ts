import type { Command } from "commander";
import { createKafka } from "../adapters/kafka/index.ts";
import { addSettings, loadNamespacesFile, readSettings } from "../config/index.ts";
import { createLogger } from "../observability/index.ts";
import {
  applyTopology,
  describeAction,
  readAndPlan,
  type TopologyPlan,
} from "../topology/index.ts";
import { type ClientOptions, clientFrom, withClientOptions } from "./namespaces-command.ts";
import { failAndExit } from "./run-service.ts";

type TopologyOptions = ClientOptions &
  Record<string, unknown> & { controlPlane?: boolean; allowRepartition?: boolean };

const upToDate = "nothing to change: the cluster matches the topology\n";

function printNotes(plan: TopologyPlan): void {
  for (const note of plan.notes) process.stdout.write(`note: ${note}\n`);
}

/** `plan` and `apply` share their options: the topology file, Kafka, and optionally the control plane. */
function topologyCommand(parent: Command, name: string, description: string, apply: boolean): void {
  const command = withClientOptions(
    parent
      .command(name)
      .description(description)
      .option(
        "--control-plane",
        "also make the control plane's namespace rows match (uses --url, --admin-token)",
      )
      .option(
        "--allow-repartition",
        "add partitions where fewer than declared (moves keys: drain the log first, or a key's entries may apply out of order)",
      ),
  ).action(async (options: TopologyOptions) => {
    try {
      const settings = readSettings(options, ["kafkaBrokers", "namespaces"]);
      const declared = await loadNamespacesFile(settings.namespaces);
      const kafka = createKafka(
        { brokers: settings.kafkaBrokers, clientId: "wal-topology" },
        createLogger("topology", "warn"),
      );
      const controlPlane = options.controlPlane === true ? clientFrom(options) : undefined;
      const plan = await readAndPlan(declared, kafka, controlPlane, {
        allowRepartition: options.allowRepartition === true,
      });
      printNotes(plan);
      if (plan.actions.length === 0) process.stdout.write(upToDate);
      else if (!apply) {
        for (const action of plan.actions)
          process.stdout.write(`would ${describeAction(action)}\n`);
      } else {
        await applyTopology(plan.actions, kafka, controlPlane, (action) =>
          process.stdout.write(`done: ${describeAction(action)}\n`),
        );
      }
    } catch (error) {
      failAndExit(error);
    }
  });
  addSettings(command, ["kafkaBrokers", "namespaces"]);
}

export function registerTopologyCommand(program: Command): void {
  const topology = program
    .command("topology")
    .description(
      "make Kafka (and the control plane) match the declared namespaces, never deleting",
    );
  topologyCommand(topology, "plan", "show what apply would change, changing nothing", false);
  topologyCommand(topology, "apply", "create or update what differs (idempotent)", true);
}
