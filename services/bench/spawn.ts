import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { NamespaceConfigInput } from "../core/index.ts";

const walBin = fileURLToPath(new URL("../../bin/wal.js", import.meta.url));

export interface SpawnedService {
  child: ChildProcess;
  /** The log line that said it was ready. */
  ready: Record<string, unknown>;
  /** SIGTERM, then resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a `wal` service as a child process and resolves once it logs the
 * line `readyMessage`; rejects if it exits or says it cannot start first.
 */
export function spawnService(
  args: string[],
  env: Record<string, string>,
  readyMessage: string,
): Promise<SpawnedService> {
  const child = spawn(process.execPath, [walBin, ...args], {
    env: { ...process.env, WAL_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  // Reads every line for as long as the service runs: a pipe left undrained would stall its logging.
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    lines.on("line", (line) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const msg = String(record.msg ?? "");
      if (msg === readyMessage) resolve({ child, ready: record, stop });
      else if (msg.startsWith("cannot start")) reject(new Error(`wal ${args[0]}: ${msg}`));
    });
    child.once("exit", () => reject(new Error(`wal ${args[0]} exited before it was ready`)));
  });
}

/** A temporary namespaces file for the services a benchmark spawns; `remove` deletes it. */
export async function benchNamespacesFile(
  ...namespaces: NamespaceConfigInput[]
): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "wal-bench-"));
  const path = join(dir, "namespaces.json");
  await writeFile(path, JSON.stringify({ namespaces }));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
