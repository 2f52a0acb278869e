import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { NamespaceConfigInput } from "../../services/core/index.ts";
import { kafkaBrokers } from "./servers.ts";

const walBin = fileURLToPath(new URL("../../bin/wal.js", import.meta.url));

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A `wal` service run as its own process, as in production, so tests can kill -9 it. */
export class WalProcess {
  readonly lines: LogLine[] = [];
  private readonly exited: Promise<number | null>;
  private readonly waiters: Array<{
    test: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }> = [];

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: "raw", msg: text };
      }
      this.lines.push(line);
      for (const waiter of this.waiters.filter((w) => w.test(line))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    });
  }

  static start(args: string[], env: Record<string, string>): WalProcess {
    const child = spawn(process.execPath, [walBin, ...args], {
      env: {
        ...process.env,
        WAL_KAFKA_BROKERS: kafkaBrokers.join(","),
        WAL_LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    return new WalProcess(child);
  }

  /** Resolves with the first log line (past or future) matching `test`; fails if the process exits first. */
  async waitForLine(test: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return seen;
    const found = new Promise<LogLine>((resolve) => this.waiters.push({ test, resolve }));
    const exited = this.exited.then((code) => {
      throw new Error(
        `wal exited (code ${code}) before logging the awaited line; last lines: ${JSON.stringify(this.lines.slice(-5))}`,
      );
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([found, exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Graceful stop (SIGTERM); resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }

  /** Abrupt death (SIGKILL): no shutdown code runs. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** A temporary namespaces file; `remove` deletes it. */
export async function writeNamespacesFile(
  namespaces: NamespaceConfigInput[],
): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "wal-test-"));
  const path = join(dir, "namespaces.json");
  await writeFile(path, JSON.stringify({ namespaces }));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts a gateway on free ports and resolves its gRPC and HTTP addresses once it serves. */
export async function startGateway(namespacesFile: string, env: Record<string, string> = {}) {
  const process = WalProcess.start(["gateway", "--grpc-port", "0", "--http-port", "0"], {
    WAL_NAMESPACES_FILE: namespacesFile,
    ...env,
  });
  const serving = await process.waitForLine((l) => l.msg === "gateway serving");
  return { process, grpc: serving.grpc as string, http: `http://${serving.http as string}` };
}

/** Starts a processor and resolves once it consumes every namespace of the file. */
export async function startProcessor(
  namespacesFile: string,
  namespaceCount: number,
  env: Record<string, string> = {},
) {
  const process = WalProcess.start(["processor"], { WAL_NAMESPACES_FILE: namespacesFile, ...env });
  for (let seen = 0; seen < namespaceCount; ) {
    await process.waitForLine((l) => l.msg === "processor consuming" && seen++ >= 0);
  }
  return process;
}

export interface WalRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `wal` command to its end; `env` values of undefined are removed from the environment. */
export function runWal(
  args: string[],
  env: Record<string, string | undefined>,
  stdin = "",
): Promise<WalRun> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  const child = spawn(process.execPath, [walBin, ...args], { env: merged });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}
