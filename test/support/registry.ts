import { SchemaType } from "@kafkajs/confluent-schema-registry";
import { createSchema } from "./postgres.ts";
import { WalProcess } from "./wal-process.ts";

export const registryAdminToken = "registry-test-admin-token-0123";

export interface RunningRegistry {
  /** Base URL of the Confluent-compatible API (the control plane's address). */
  url: string;
  /** The database URL whose schema holds this control plane's tables. */
  databaseUrl: string;
  controlPlane: WalProcess;
  stop(): Promise<void>;
}

/** A control plane on a PostgreSQL schema of its own: the registry (and admin API) tests talk to. */
export async function startRegistry(prefix = "registry"): Promise<RunningRegistry> {
  const schema = await createSchema(prefix);
  const controlPlane = WalProcess.start(["control-plane", "--port", "0"], {
    WAL_DATABASE_URL: schema.url,
    WAL_ADMIN_TOKEN: registryAdminToken,
  });
  const serving = await controlPlane.waitForLine((l) => l.msg === "control plane serving");
  return {
    url: `http://${serving.http as string}`,
    databaseUrl: schema.url,
    controlPlane,
    async stop() {
      await controlPlane.stop();
      await schema.drop();
    },
  };
}

/** An Avro schema as @kafkajs/confluent-schema-registry takes it. */
export function avro(schema: object): { type: SchemaType.AVRO; schema: string } {
  return { type: SchemaType.AVRO, schema: JSON.stringify(schema) };
}
