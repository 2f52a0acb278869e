import pg from "pg";
import { databaseUrl, uniqueName } from "./servers.ts";

/**
 * A PostgreSQL schema of the test's own, so its tables and migrations never
 * meet another test's: `url` puts it first on the search_path, `query` runs
 * SQL in it, `drop` removes it.
 */
export async function createSchema(prefix: string): Promise<{
  url: string;
  query: (sql: string) => Promise<unknown[]>;
  drop: () => Promise<void>;
}> {
  const schema = uniqueName(prefix).replaceAll("-", "_");
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  return {
    url: `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    query: async (sql) => (await admin.query(sql)).rows,
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
