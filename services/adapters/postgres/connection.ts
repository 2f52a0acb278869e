import pg from "pg";
import { describeError, ErrorCode, WalError } from "../../core/index.ts";
import type { Logger } from "../../observability/index.ts";

/** `host:port/database` of a connection URL: enough to find the server, without the password. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "the configured database (its URL does not parse)";
  }
}

export function createPool(databaseUrl: string, logger: Logger): pg.Pool {
  // Every wait is bounded, so a database that stops answering (without closing connections)
  // fails requests instead of stalling them, and their callers keep the last good state.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 5_000,
    query_timeout: 15_000,
    statement_timeout: 10_000,
    keepAlive: true,
  });
  // An idle connection dropped by the server would otherwise crash the process; the pool replaces it.
  pool.on("error", (error) =>
    logger.warn({ err: error }, "idle PostgreSQL connection failed; it will be replaced"),
  );
  return pool;
}

/**
 * Runs `work` in one transaction on a pooled connection. Failing to connect is
 * WAL_STORE_UNAVAILABLE (retryable). `end: "rollback"` undoes everything even
 * on success: a dry run goes through the very same statements and checks as
 * the real change, so its answer is exactly what would have been stored.
 */
export async function transaction<T>(
  pool: pg.Pool,
  databaseUrl: string,
  work: (client: pg.PoolClient) => Promise<T>,
  end: "commit" | "rollback" = "commit",
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (cause) {
    throw new WalError(
      ErrorCode.storeUnavailable,
      `cannot reach PostgreSQL at ${describeDatabase(databaseUrl)} (${describeError(cause)}); check that it runs ('wal infra up postgres') and that the database URL points at it, then retry`,
      { cause, canRetry: true },
    );
  }
  let broken = false;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query(end === "commit" ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    // A connection that cannot even roll back is broken: discard it rather than lend it again.
    await client.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
