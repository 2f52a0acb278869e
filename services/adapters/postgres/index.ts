export { describeDatabase } from "./connection.ts";
export type { Migration } from "./migrations.ts";
export { PostgresNamespaceStore } from "./namespace-store.ts";
