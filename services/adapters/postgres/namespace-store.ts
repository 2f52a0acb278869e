import type pg from "pg";
import {
  type ChangeContext,
  ErrorCode,
  type NamespaceAction,
  type NamespaceChange,
  type NamespaceConfig,
  NamespaceConflictError,
  type NamespaceRecord,
  type NamespaceStore,
  namespaceNotFound,
  type ProposedChange,
  parseNamespaceConfig,
  type RedriveLog,
  type RegistryStore,
  WalError,
} from "../../core/index.ts";
import type { Logger } from "../../observability/index.ts";
import { createPool, transaction } from "./connection.ts";
import { applyMigrations, type Migration, requireCurrentSchema } from "./migrations.ts";
import { PostgresRedriveLog } from "./redrive-log.ts";
import { PostgresRegistryStore } from "./registry-store.ts";

interface NamespaceRow {
  name: string;
  config: NamespaceConfig;
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

interface ChangeRow {
  namespace: string;
  version: number;
  action: NamespaceAction;
  actor: string;
  at: Date;
  before: NamespaceConfig | null;
  after: NamespaceConfig | null;
  rolled_back_to: number | null;
}

type NewChange = Omit<ChangeRow, "at">;

function toRecord(row: NamespaceRow): NamespaceRecord {
  return {
    name: row.name,
    version: row.version,
    config: row.config,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toChange(row: ChangeRow): NamespaceChange {
  return {
    namespace: row.namespace,
    version: row.version,
    action: row.action,
    actor: row.actor,
    at: row.at.toISOString(),
    before: row.before,
    after: row.after,
    rolledBackTo: row.rolled_back_to,
  };
}

function namespaceExists(name: string): WalError {
  return new WalError(
    ErrorCode.namespaceExists,
    `namespace '${name}' already exists: update it instead, or pick another name`,
    { field: "name" },
  );
}

/** Reads a namespace row, locking it until the transaction ends so concurrent changes queue. */
async function lockNamespace(
  client: pg.PoolClient,
  name: string,
): Promise<NamespaceRow | undefined> {
  const { rows } = await client.query<NamespaceRow>(
    "SELECT * FROM namespaces WHERE name = $1 FOR UPDATE",
    [name],
  );
  return rows[0];
}

/** Locks a live namespace that is still at `expectedVersion`; otherwise not found or conflict. */
async function lockForChange(
  client: pg.PoolClient,
  name: string,
  expectedVersion: number,
): Promise<NamespaceRow> {
  const current = await lockNamespace(client, name);
  if (current === undefined) throw namespaceNotFound(name);
  if (current.deleted_at !== null) throw namespaceNotFound(name, current.version);
  if (current.version !== expectedVersion) {
    throw new NamespaceConflictError(name, expectedVersion, current.version);
  }
  return current;
}

async function storeConfig(
  client: pg.PoolClient,
  name: string,
  config: NamespaceConfig,
  version: number,
): Promise<NamespaceRow> {
  const { rows } = await client.query<NamespaceRow>(
    `UPDATE namespaces SET config = $2::jsonb, version = $3, updated_at = now()
     WHERE name = $1 RETURNING *`,
    [name, JSON.stringify(config), version],
  );
  return rows[0] as NamespaceRow;
}

async function recordChange(client: pg.PoolClient, change: NewChange): Promise<NamespaceChange> {
  const { rows } = await client.query<ChangeRow>(
    `INSERT INTO namespace_changes
       (namespace, version, action, actor, at, before, after, rolled_back_to)
     VALUES ($1, $2, $3, $4, now(), $5::jsonb, $6::jsonb, $7)
     RETURNING *`,
    [
      change.namespace,
      change.version,
      change.action,
      change.actor,
      change.before === null ? null : JSON.stringify(change.before),
      change.after === null ? null : JSON.stringify(change.after),
      change.rolled_back_to,
    ],
  );
  return toChange(rows[0] as ChangeRow);
}

/**
 * Namespaces in PostgreSQL (tables `namespaces` and `namespace_changes`).
 * Every change locks the namespace's row (SELECT … FOR UPDATE), checks the
 * expected version, and writes the row and its audit entry in one transaction:
 * of two concurrent changes from the same version, the second waits, then sees
 * the new version and fails with a conflict.
 */
export class PostgresNamespaceStore implements NamespaceStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
  ) {}

  /**
   * Connects and applies pending migrations (the control plane owns the
   * schema). Tables live in the first schema of the connection's search_path
   * (settable in the URL, e.g. `?options=-c%20search_path%3Dstaging`).
   * Answers the migrations applied now.
   */
  static async open(
    databaseUrl: string,
    logger: Logger,
  ): Promise<{ store: PostgresNamespaceStore; migrated: Migration[] }> {
    const pool = createPool(databaseUrl, logger);
    try {
      const migrated = await applyMigrations(pool, databaseUrl);
      return { store: new PostgresNamespaceStore(pool, databaseUrl), migrated };
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * Connects to a database the control plane has already migrated, changing
   * no schema: for gateways and processors, which only read namespaces.
   */
  static async openForReading(
    databaseUrl: string,
    logger: Logger,
  ): Promise<PostgresNamespaceStore> {
    const pool = createPool(databaseUrl, logger);
    try {
      await requireCurrentSchema(pool, databaseUrl);
      return new PostgresNamespaceStore(pool, databaseUrl);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /** The audit of dead-letter redrives, in the same database. */
  redriveLog(): RedriveLog {
    return new PostgresRedriveLog(this.pool, this.databaseUrl);
  }

  /** The schema registry's tables, on the same connections. */
  registryStore(): RegistryStore {
    return new PostgresRegistryStore(this.pool, this.databaseUrl);
  }

  /** Waits for the queries in flight, then closes every connection. */
  close(): Promise<void> {
    return this.pool.end();
  }

  async create(
    input: unknown,
    { actor, dryRun = false }: ProposedChange,
  ): Promise<NamespaceRecord> {
    const config = parseNamespaceConfig(input);
    const { name } = config;
    return this.transaction(async (client) => {
      const current = await lockNamespace(client, name);
      if (current !== undefined && current.deleted_at === null) throw namespaceExists(name);
      let row: NamespaceRow | undefined;
      if (current === undefined) {
        // Two creations of a new name cannot both lock a row that does not exist yet;
        // the unique key makes the later one wait, then insert nothing.
        ({
          rows: [row],
        } = await client.query<NamespaceRow>(
          `INSERT INTO namespaces (name, config, version, created_at, updated_at)
           VALUES ($1, $2::jsonb, 1, now(), now())
           ON CONFLICT (name) DO NOTHING RETURNING *`,
          [name, JSON.stringify(config)],
        ));
        if (row === undefined) throw namespaceExists(name);
      } else {
        // Re-creating a deleted namespace goes on from its last version: history stays one line.
        ({
          rows: [row],
        } = await client.query<NamespaceRow>(
          `UPDATE namespaces
           SET config = $2::jsonb, version = $3, created_at = now(), updated_at = now(), deleted_at = NULL
           WHERE name = $1 RETURNING *`,
          [name, JSON.stringify(config), current.version + 1],
        ));
      }
      const created = row as NamespaceRow;
      await recordChange(client, {
        namespace: name,
        version: created.version,
        action: "create",
        actor,
        before: null,
        after: config,
        rolled_back_to: null,
      });
      return toRecord(created);
    }, dryRun);
  }

  async get(name: string): Promise<NamespaceRecord> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<NamespaceRow>(
        "SELECT * FROM namespaces WHERE name = $1",
        [name],
      );
      const row = rows[0];
      if (row === undefined) throw namespaceNotFound(name);
      if (row.deleted_at !== null) throw namespaceNotFound(name, row.version);
      return toRecord(row);
    });
  }

  async list(): Promise<NamespaceRecord[]> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<NamespaceRow>(
        "SELECT * FROM namespaces WHERE deleted_at IS NULL ORDER BY name",
      );
      return rows.map(toRecord);
    });
  }

  async update(
    name: string,
    input: unknown,
    expectedVersion: number,
    { actor, dryRun = false }: ProposedChange,
  ): Promise<NamespaceRecord> {
    const config = parseNamespaceConfig(input);
    if (config.name !== name) {
      throw new WalError(
        ErrorCode.invalidConfig,
        `the config is named '${config.name}' but updates namespace '${name}': renaming is not supported. Keep the name, or create '${config.name}' and delete '${name}'.`,
        { field: "name" },
      );
    }
    return this.transaction(async (client) => {
      const current = await lockForChange(client, name, expectedVersion);
      const row = await storeConfig(client, name, config, current.version + 1);
      await recordChange(client, {
        namespace: name,
        version: row.version,
        action: "update",
        actor,
        before: current.config,
        after: config,
        rolled_back_to: null,
      });
      return toRecord(row);
    }, dryRun);
  }

  async delete(
    name: string,
    expectedVersion: number,
    { actor }: ChangeContext,
  ): Promise<NamespaceChange> {
    return this.transaction(async (client) => {
      const current = await lockForChange(client, name, expectedVersion);
      const version = current.version + 1;
      await client.query(
        `UPDATE namespaces SET version = $2, updated_at = now(), deleted_at = now()
         WHERE name = $1`,
        [name, version],
      );
      return recordChange(client, {
        namespace: name,
        version,
        action: "delete",
        actor,
        before: current.config,
        after: null,
        rolled_back_to: null,
      });
    });
  }

  async history(name: string): Promise<NamespaceChange[]> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<ChangeRow>(
        "SELECT * FROM namespace_changes WHERE namespace = $1 ORDER BY version",
        [name],
      );
      if (rows.length === 0) throw namespaceNotFound(name);
      return rows.map(toChange);
    });
  }

  async rollback(
    name: string,
    toVersion: number,
    expectedVersion: number,
    { actor }: ChangeContext,
  ): Promise<NamespaceRecord> {
    return this.transaction(async (client) => {
      const current = await lockForChange(client, name, expectedVersion);
      const { rows } = await client.query<Pick<ChangeRow, "after">>(
        "SELECT after FROM namespace_changes WHERE namespace = $1 AND version = $2",
        [name, toVersion],
      );
      const earlier = rows[0];
      if (earlier === undefined || earlier.after === null) {
        const why =
          earlier === undefined
            ? `has no version ${toVersion}`
            : `was deleted at version ${toVersion}, which holds no config`;
        throw new WalError(
          ErrorCode.invalidArgument,
          `namespace '${name}' ${why}: pick a version from its history (1 to ${current.version})`,
          { field: "toVersion" },
        );
      }
      // The schema may have tightened since that version was stored: restore only a config
      // that the gateway and the processor accept today.
      const config = parseNamespaceConfig(earlier.after, `the config of version ${toVersion}`);
      const row = await storeConfig(client, name, config, current.version + 1);
      await recordChange(client, {
        namespace: name,
        version: row.version,
        action: "rollback",
        actor,
        before: current.config,
        after: config,
        rolled_back_to: toVersion,
      });
      return toRecord(row);
    });
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>, dryRun = false): Promise<T> {
    return transaction(this.pool, this.databaseUrl, work, dryRun ? "rollback" : "commit");
  }
}
