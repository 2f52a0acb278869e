import type pg from "pg";
import type {
  CompatibilityLevel,
  ConfiguredLevels,
  Registration,
  RegistryStore,
  StoredVersion,
} from "../../core/index.ts";
import { transaction } from "./connection.ts";

interface VersionRow {
  subject: string;
  version: number;
  schema_id: number;
  schema: string;
  deleted: boolean;
}

function toVersion(row: VersionRow): StoredVersion {
  return {
    subject: row.subject,
    version: row.version,
    id: row.schema_id,
    schema: row.schema,
    deleted: row.deleted,
  };
}

const selectVersions = `SELECT v.subject, v.version, v.schema_id, s.schema, v.deleted
  FROM registry_subject_versions v JOIN registry_schemas s ON s.id = v.schema_id`;

// The global level lives in the row whose subject is '' (no subject has an empty name).
const globalRow = "";

/** The schema registry's tables in PostgreSQL (migration 0003). */
export class PostgresRegistryStore implements RegistryStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
  ) {}

  private run<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, this.databaseUrl, work);
  }

  subjects(includeDeleted: boolean): Promise<string[]> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ subject: string }>(
        `SELECT DISTINCT subject FROM registry_subject_versions
         WHERE $1 OR NOT deleted ORDER BY subject`,
        [includeDeleted],
      );
      return rows.map((r) => r.subject);
    });
  }

  versions(subject: string, includeDeleted: boolean): Promise<StoredVersion[]> {
    return this.run((client) => this.versionsWith(client, subject, includeDeleted));
  }

  private async versionsWith(
    client: pg.PoolClient,
    subject: string,
    includeDeleted: boolean,
  ): Promise<StoredVersion[]> {
    const { rows } = await client.query<VersionRow>(
      `${selectVersions} WHERE v.subject = $1 AND ($2 OR NOT v.deleted) ORDER BY v.version`,
      [subject, includeDeleted],
    );
    return rows.map(toVersion);
  }

  schemaById(id: number): Promise<string | undefined> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ schema: string }>(
        "SELECT schema FROM registry_schemas WHERE id = $1",
        [id],
      );
      return rows[0]?.schema;
    });
  }

  versionsOfSchema(id: number): Promise<Array<{ subject: string; version: number }>> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ subject: string; version: number }>(
        `SELECT subject, version FROM registry_subject_versions
         WHERE schema_id = $1 AND NOT deleted ORDER BY subject, version`,
        [id],
      );
      return rows;
    });
  }

  register(
    subject: string,
    schema: string,
    decide: (live: StoredVersion[], levels: ConfiguredLevels) => StoredVersion | undefined,
  ): Promise<Registration> {
    return this.run(async (client) => {
      // One registration per subject at a time: the check and the insert see the same versions.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('wal.registry'), hashtext($1))", [
        subject,
      ]);
      const live = await this.versionsWith(client, subject, false);
      const levels = await this.levelsWith(client, subject);
      const existing = decide(live, levels);
      if (existing !== undefined) return { id: existing.id, version: existing.version };
      // The no-op update makes RETURNING answer the id also when another subject's registration
      // inserted the same schema concurrently (DO NOTHING would answer no row).
      const { rows: ids } = await client.query<{ id: number }>(
        `INSERT INTO registry_schemas (schema, fingerprint)
         VALUES ($1, sha256(convert_to($1, 'UTF8')))
         ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = EXCLUDED.fingerprint
         RETURNING id`,
        [schema],
      );
      const { rows: versions } = await client.query<{ version: number }>(
        `INSERT INTO registry_subject_versions (subject, version, schema_id)
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2 FROM registry_subject_versions WHERE subject = $1
         RETURNING version`,
        [subject, ids[0]?.id],
      );
      const id = ids[0]?.id;
      const version = versions[0]?.version;
      if (id === undefined || version === undefined) {
        throw new Error(`registering under '${subject}' stored no row`);
      }
      return { id, version };
    });
  }

  private async levelsWith(client: pg.PoolClient, subject: string): Promise<ConfiguredLevels> {
    const { rows } = await client.query<{ subject: string; compatibility: CompatibilityLevel }>(
      "SELECT subject, compatibility FROM registry_config WHERE subject IN ($1, $2)",
      [subject, globalRow],
    );
    return {
      subject: rows.find((r) => r.subject === subject)?.compatibility,
      global: rows.find((r) => r.subject === globalRow)?.compatibility,
    };
  }

  async levels(subject: string | null): Promise<ConfiguredLevels> {
    const levels = await this.run((client) => this.levelsWith(client, subject ?? globalRow));
    return subject === null ? { subject: undefined, global: levels.global } : levels;
  }

  setCompatibility(subject: string | null, level: CompatibilityLevel): Promise<void> {
    return this.run(async (client) => {
      await client.query(
        `INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2)
         ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility`,
        [subject ?? globalRow, level],
      );
    });
  }

  deleteCompatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ compatibility: CompatibilityLevel }>(
        "DELETE FROM registry_config WHERE subject = $1 RETURNING compatibility",
        [subject],
      );
      return rows[0]?.compatibility;
    });
  }

  softDelete(subject: string, version: number | undefined): Promise<number[]> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ version: number }>(
        `UPDATE registry_subject_versions SET deleted = true
         WHERE subject = $1 AND ($2::integer IS NULL OR version = $2) AND NOT deleted
         RETURNING version`,
        [subject, version ?? null],
      );
      return rows.map((r) => r.version).sort((a, b) => a - b);
    });
  }

  hardDelete(subject: string, version: number | undefined): Promise<number[]> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ version: number }>(
        `DELETE FROM registry_subject_versions
         WHERE subject = $1 AND ($2::integer IS NULL OR version = $2) AND deleted
         RETURNING version`,
        [subject, version ?? null],
      );
      return rows.map((r) => r.version).sort((a, b) => a - b);
    });
  }
}
