import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";

const infraDir = fileURLToPath(new URL("../../infra/", import.meta.url));
const servers = "kafka, nats, memcached, postgres";

function runScript(script: string, names: string[]): void {
  const result = spawnSync("bash", [`${infraDir}${script}`, ...names], { stdio: "inherit" });
  process.exitCode = result.status ?? 1;
}

export function registerInfraCommand(program: Command): void {
  const infra = program
    .command("infra")
    .description(
      "run the local servers WAL needs (Kafka, NATS, memcached, PostgreSQL) without Docker",
    );
  infra
    .command("up")
    .description(
      `install what is missing and start servers, waiting until each answers (default: ${servers})`,
    )
    .argument("[servers...]", servers)
    .action((names: string[]) => runScript("up.sh", names));
  infra
    .command("down")
    .description("stop the servers these scripts started")
    .argument("[servers...]", servers)
    .action((names: string[]) => runScript("down.sh", names));
  infra
    .command("status")
    .description("show which servers run, their pids and ports")
    .action(() => runScript("status.sh", []));
}
