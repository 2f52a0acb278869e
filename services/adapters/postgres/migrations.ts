import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import type pg from "pg";
import { ErrorCode, WalError } from "../../core/index.ts";
import { describeDatabase, transaction } from "./connection.ts";

/** One numbered SQL file of `migrations/`. */
export interface Migration {
  version: number;
  /** File name, e.g. `0001_namespaces.sql`. */
  name: string;
  sql: string;
  /** sha256 of the SQL, to notice a file edited after it was applied. */
  checksum: string;
}

/** A row of `schema_migrations`. */
export type AppliedMigration = Pick<Migration, "version" | "name" | "checksum">;

const migrationsDir = new URL("./migrations/", import.meta.url);
const fileNamePattern = /^(\d+)_[a-z0-9_]+\.sql$/;
// Any constant works; it only has to be the same in every control plane sharing the database.
const migrationLockKey = 0x5741_4c00;

/** Orders migration files by number; refuses a misnamed file or a number used twice. */
export function orderMigrations(files: Array<{ name: string; sql: string }>): Migration[] {
  const migrations = files.map(({ name, sql }) => {
    const number = fileNamePattern.exec(name)?.[1];
    if (number === undefined) {
      throw new WalError(
        ErrorCode.internal,
        `migration file '${name}' is misnamed: name it <number>_<lowercase_words>.sql, e.g. 0002_add_owner.sql`,
      );
    }
    const checksum = createHash("sha256").update(sql).digest("hex");
    return { version: Number(number), name, sql, checksum };
  });
  migrations.sort((a, b) => a.version - b.version);
  for (const [i, migration] of migrations.entries()) {
    const previous = migrations[i - 1];
    if (previous?.version === migration.version) {
      throw new WalError(
        ErrorCode.internal,
        `migrations '${previous.name}' and '${migration.name}' share number ${migration.version}: give the newer one the next free number`,
      );
    }
  }
  return migrations;
}

/**
 * The migrations still to apply, in order. Refuses a database that holds a
 * migration this code does not know (it was migrated by a newer version) or
 * whose applied migration was edited since: migrations are append-only.
 */
export function pendingMigrations(known: Migration[], applied: AppliedMigration[]): Migration[] {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  for (const done of applied) {
    const migration = byVersion.get(done.version);
    if (migration === undefined) {
      throw new WalError(
        ErrorCode.internal,
        `the database has migration ${done.name}, which this version of wal does not know: it was migrated by a newer wal. Run that version (or newer).`,
      );
    }
    if (migration.checksum !== done.checksum) {
      throw new WalError(
        ErrorCode.internal,
        `migration ${migration.name} differs from the one applied to the database: applied migrations must not change. Restore the file and put the change in a new numbered migration.`,
      );
    }
  }
  const appliedVersions = new Set(applied.map((m) => m.version));
  return known.filter((m) => !appliedVersions.has(m.version));
}

async function loadMigrations(): Promise<Migration[]> {
  const names = (await readdir(migrationsDir)).filter((name) => name.endsWith(".sql"));
  return orderMigrations(
    await Promise.all(
      names.map(async (name) => ({
        name,
        sql: await readFile(new URL(name, migrationsDir), "utf8"),
      })),
    ),
  );
}

/**
 * Brings the database's schema (the first of the connection's search_path) up
 * to date in one transaction: all pending migrations apply, or none. Control
 * planes starting together take turns on an advisory lock, so each migration
 * runs once. Answers the migrations applied now (none when already current).
 */
export async function applyMigrations(pool: pg.Pool, databaseUrl: string): Promise<Migration[]> {
  const known = await loadMigrations();
  return transaction(pool, databaseUrl, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
    const { rows: schema } = await client.query<{ current_schema: string | null }>(
      "SELECT current_schema()",
    );
    if (schema[0]?.current_schema == null) {
      throw new WalError(
        ErrorCode.invalidConfig,
        `no schema of the search_path exists in ${describeDatabase(databaseUrl)}, so there is nowhere to create the tables: create the schema (CREATE SCHEMA <name>) or fix the search_path in the database URL`,
        { field: "databaseUrl" },
      );
    }
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<AppliedMigration>(
      "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
    );
    const pending = pendingMigrations(known, rows);
    for (const migration of pending) {
      await client.query(migration.sql);
      await client.query(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        [migration.version, migration.name, migration.checksum],
      );
    }
    return pending;
  });
}

/**
 * Checks, without changing anything, that the database's schema is exactly
 * what this code expects: for services that only read namespaces and leave
 * migrating to the control plane.
 */
export async function requireCurrentSchema(pool: pg.Pool, databaseUrl: string): Promise<void> {
  const known = await loadMigrations();
  const { rows: table } = await pool.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (table[0]?.present !== true) {
    throw new WalError(
      ErrorCode.storeUnavailable,
      `${describeDatabase(databaseUrl)} has no WAL tables yet: start 'wal control-plane' against it once (it creates them), then start this service`,
      { field: "databaseUrl" },
    );
  }
  const { rows } = await pool.query<AppliedMigration>(
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
  );
  const pending = pendingMigrations(known, rows);
  if (pending.length > 0) {
    throw new WalError(
      ErrorCode.storeUnavailable,
      `${describeDatabase(databaseUrl)} lacks ${pending.length} migration(s) (${pending.map((m) => m.name).join(", ")}): start the new 'wal control-plane' first, which applies them`,
      { field: "databaseUrl" },
    );
  }
}
