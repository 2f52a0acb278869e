import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { Socket } from "node:net";
import { eventually } from "./servers.ts";

export async function accepts(port: number): Promise<boolean> {
  const socket = new Socket();
  try {
    socket.connect(port, "127.0.0.1");
    await once(socket, "connect");
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** A nats-server of the test's own, on a fixed port, that the test stops and starts again. */
export class PrivateNatsServer {
  private process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(this.port)], {
      stdio: "ignore",
    });
    this.process = child;
    const failed = once(child, "error").then(([error]) => {
      throw new Error(`cannot run nats-server (${String(error)}); 'wal infra up nats' installs it`);
    });
    await Promise.race([
      failed,
      eventually(`nats-server on port ${this.port}`, 10_000, async () =>
        (await accepts(this.port)) ? true : undefined,
      ),
    ]);
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
}
