import type pg from "pg";
import type { DeadLetterFilter, RedriveLog, RedriveRecord } from "../../core/index.ts";
import { transaction } from "./connection.ts";

interface RedriveRow {
  id: string;
  namespace: string;
  actor: string;
  at: Date;
  filter: DeadLetterFilter;
  dry_run: boolean;
  entry_ids: string[];
  records: string[];
}

function toRecord(row: RedriveRow): RedriveRecord {
  return {
    id: Number(row.id),
    namespace: row.namespace,
    actor: row.actor,
    at: row.at.toISOString(),
    filter: row.filter,
    dryRun: row.dry_run,
    entryIds: row.entry_ids,
    records: row.records,
  };
}

/** The redrive audit in PostgreSQL (table `dead_letter_redrives`, migration 0002). */
export class PostgresRedriveLog implements RedriveLog {
  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
  ) {}

  record(redrive: Omit<RedriveRecord, "id" | "at">): Promise<RedriveRecord> {
    return transaction(this.pool, this.databaseUrl, async (client) => {
      const { rows } = await client.query<RedriveRow>(
        `INSERT INTO dead_letter_redrives (namespace, actor, at, filter, dry_run, entry_ids, records)
         VALUES ($1, $2, now(), $3, $4, $5, $6) RETURNING *`,
        [
          redrive.namespace,
          redrive.actor,
          JSON.stringify(redrive.filter),
          redrive.dryRun,
          redrive.entryIds,
          redrive.records,
        ],
      );
      return toRecord(rows[0] as RedriveRow);
    });
  }

  redriven(namespace: string): Promise<Set<string>> {
    return transaction(this.pool, this.databaseUrl, async (client) => {
      const { rows } = await client.query<{ record: string }>(
        "SELECT unnest(records) AS record FROM dead_letter_redrives WHERE namespace = $1 AND NOT dry_run",
        [namespace],
      );
      return new Set(rows.map((r) => r.record));
    });
  }

  list(namespace: string): Promise<RedriveRecord[]> {
    return transaction(this.pool, this.databaseUrl, async (client) => {
      const { rows } = await client.query<RedriveRow>(
        "SELECT * FROM dead_letter_redrives WHERE namespace = $1 ORDER BY id",
        [namespace],
      );
      return rows.map(toRecord);
    });
  }
}
