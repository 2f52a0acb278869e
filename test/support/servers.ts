import { type AddressInfo, createServer } from "node:net";
/**
 * Addresses of the real servers the integration tests use, started by
 * `infra/up.sh` (which `npm test` runs first). Same variables as the services.
 */
export const kafkaBrokers = (process.env.WAL_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
export const memcachedServers = process.env.WAL_MEMCACHED_SERVERS ?? "127.0.0.1:11211";
export const databaseUrl = process.env.WAL_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/wal";

/** A port nothing listens on: bound by the OS, then released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A name no other test (or earlier run) uses: tests never share topics, groups or namespaces. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}
