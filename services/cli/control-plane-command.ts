import { type Command, Option } from "commander";
import { z } from "zod";
import { createKafka } from "../adapters/kafka/index.ts";
import {
  createNamespaceChangePublisher,
  describeNatsServer,
  type NatsStatus,
} from "../adapters/nats/index.ts";
import { describeDatabase, PostgresNamespaceStore } from "../adapters/postgres/index.ts";
import { addSettings, readSettings } from "../config/index.ts";
import {
  type ApiAccess,
  announcingStore,
  type RunningControlPlaneApi,
  startControlPlaneApi,
} from "../control-plane/index.ts";
import { ErrorCode, WalError } from "../core/index.ts";
import { DeadLetterService } from "../dead-letters/index.ts";
import { type Logger, observeDeadLetterDepth, serveMetrics } from "../observability/index.ts";
import { SchemaRegistryService } from "../schema-registry/index.ts";
import { runService, type Stoppable } from "./run-service.ts";

const defaultDatabaseUrl = "postgres://postgres@127.0.0.1:5432/wal";
const minAdminTokenLength = 16;

/** Commander's attribute name → how the user sets it, for error messages. */
const sources = {
  databaseUrl: "--database-url (WAL_DATABASE_URL)",
  adminToken: "--admin-token (WAL_ADMIN_TOKEN)",
  host: "--host (WAL_CONTROL_PLANE_HOST)",
  port: "--port (WAL_CONTROL_PLANE_PORT)",
} as const;

const optionsSchema = z.object({
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
  // An empty variable (WAL_ADMIN_TOKEN=) counts as unset: the control plane then refuses to start.
  adminToken: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z
      .string()
      .min(
        minAdminTokenLength,
        `must be at least ${minAdminTokenLength} characters; generate one with 'openssl rand -hex 32'`,
      )
      .optional(),
  ),
  insecureNoAuth: z.boolean().default(false),
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65_535),
});

/** Values never echoed in an error: the token, and the URL for the password it may hold. */
const secretOptions = new Set<string>(["adminToken", "databaseUrl"]);

/** Validates the flags; an error names the flag, its variable and (unless secret) the value. */
function readOptions(options: Record<string, unknown>): z.output<typeof optionsSchema> {
  const result = optionsSchema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = String(issue?.path[0] ?? "") as keyof typeof sources;
  const shown = secretOptions.has(key) ? "" : ` = '${String(options[key])}'`;
  throw new WalError(
    ErrorCode.invalidConfig,
    `${sources[key] ?? key}${shown} is invalid: ${issue?.message}`,
    { field: key },
  );
}

function accessFrom(adminToken: string | undefined, insecureNoAuth: boolean): ApiAccess {
  if (adminToken !== undefined && insecureNoAuth) {
    throw new WalError(
      ErrorCode.invalidConfig,
      "--admin-token (WAL_ADMIN_TOKEN) and --insecure-no-auth contradict each other: give one",
      { field: "adminToken" },
    );
  }
  if (insecureNoAuth) return "insecure-no-auth";
  if (adminToken === undefined) {
    throw new WalError(
      ErrorCode.invalidConfig,
      "the control plane needs an admin token: set WAL_ADMIN_TOKEN (or --admin-token) to a secret, e.g. from 'openssl rand -hex 32'; --insecure-no-auth serves without one, for local experiments only",
      { field: "adminToken" },
    );
  }
  return { adminToken };
}

/** The publisher's connection changes, said in terms of what they mean for namespace changes. */
function logNatsStatus(logger: Logger, nats: string): (status: NatsStatus) => void {
  return ({ state, reason }) => {
    if (state === "unreachable" || state === "disconnected") {
      logger.warn(
        { nats, state, reason },
        `NATS at ${nats} is unreachable (${reason}): namespace changes are still committed, but running services learn of them only at their next resync; start NATS ('wal infra up nats') or fix --nats-url (WAL_NATS_URL)`,
      );
    } else {
      logger.info({ nats, state }, "NATS reachable: announcing namespace changes");
    }
  };
}

async function controlPlane(options: Record<string, unknown>, logger: Logger): Promise<Stoppable> {
  const settings = readOptions(options);
  const { natsUrl, kafkaBrokers, metricsPort, metricsHost } = readSettings(options, [
    "natsUrl",
    "kafkaBrokers",
    "metricsPort",
    "metricsHost",
  ]);
  const access = accessFrom(settings.adminToken, settings.insecureNoAuth);
  const { store, migrated } = await PostgresNamespaceStore.open(settings.databaseUrl, logger);
  const nats = describeNatsServer(natsUrl);
  // NATS only carries hints; the control plane serves without it (see announcingStore).
  const publisher = createNamespaceChangePublisher({
    url: natsUrl,
    name: "wal-control-plane",
    onStatus: logNatsStatus(logger, nats),
  });
  // Kafka is reached only when a DLQ route is called, so the namespaces API serves without it.
  const deadLetters = new DeadLetterService({
    kafka: createKafka({ brokers: kafkaBrokers, clientId: "wal-control-plane" }, logger),
    audit: store.redriveLog(),
    requireNamespace: async (name) => {
      await store.get(name);
    },
    logger,
  });
  let api: RunningControlPlaneApi;
  try {
    api = await startControlPlaneApi({
      deadLetters,
      registry: new SchemaRegistryService(store.registryStore()),
      store: announcingStore(store, (change) => publisher.publishNamespaceChanged(change), logger),
      access,
      host: settings.host,
      port: settings.port,
      logger,
    });
  } catch (error) {
    await deadLetters.close();
    await publisher.close();
    await store.close();
    throw error;
  }
  const depthCounter =
    metricsPort > 0
      ? await countDeadLetters(deadLetters, store, metricsHost, metricsPort, logger)
      : undefined;
  if (access === "insecure-no-auth") {
    logger.warn(
      "serving WITHOUT authentication (--insecure-no-auth): anyone reaching the port can change namespaces",
    );
  }
  logger.info(
    {
      http: `${settings.host}:${api.port}`,
      database: describeDatabase(settings.databaseUrl),
      nats,
      migrationsApplied: migrated.map((m) => m.name),
    },
    "control plane serving",
  );
  return {
    async stop() {
      await api.stop();
      await depthCounter?.stop();
      await deadLetters.close();
      await publisher.close();
      await store.close();
      logger.info("control plane stopped");
    },
  };
}

/** A scrape finding the DLQ counts older than this starts a recount (each reads every DLQ). */
const deadLetterCountMaxAgeMs = 5_000;

/**
 * Serves the control plane's metrics, among them the DLQ depth of every
 * namespace. Counting reads the DLQs, so it runs in the background when a
 * scrape finds the last count stale; that scrape shows the last count.
 */
async function countDeadLetters(
  deadLetters: DeadLetterService,
  store: PostgresNamespaceStore,
  host: string,
  port: number,
  logger: Logger,
): Promise<Stoppable> {
  const endpoint = await serveMetrics(host, port);
  let depths = new Map<string, number>();
  let countedAt = 0;
  let counting: Promise<void> | undefined;
  const count = async () => {
    const counted = new Map<string, number>();
    for (const { name } of await store.list()) {
      counted.set(name, await deadLetters.waiting(name));
    }
    depths = counted;
    countedAt = Date.now();
  };
  observeDeadLetterDepth(endpoint.meter, () => {
    if (counting === undefined && Date.now() - countedAt > deadLetterCountMaxAgeMs) {
      counting = count()
        .catch((error: unknown) =>
          logger.warn(
            { err: error },
            "could not count the dead-letter queues; the gauge keeps its last values",
          ),
        )
        .finally(() => {
          counting = undefined;
        });
    }
    return depths;
  });
  logger.info({ metrics: `http://${host}:${port}/metrics` }, "serving Prometheus metrics");
  return {
    async stop() {
      await counting;
      await endpoint.stop();
    },
  };
}

export function registerControlPlaneCommand(program: Command): void {
  const command = program
    .command("control-plane")
    .description(
      "serve the namespaces admin API (HTTP/JSON) backed by PostgreSQL; applies pending schema migrations at start",
    )
    .addOption(
      new Option("--database-url <url>", "PostgreSQL connection URL")
        .env("WAL_DATABASE_URL")
        .default(defaultDatabaseUrl),
    )
    .addOption(
      new Option(
        "--admin-token <token>",
        `secret every request must send as 'Authorization: Bearer <token>' (at least ${minAdminTokenLength} characters)`,
      ).env("WAL_ADMIN_TOKEN"),
    )
    .addOption(
      new Option(
        "--insecure-no-auth",
        "serve without any credential (local experiments only; never with a reachable port)",
      ),
    )
    .addOption(
      new Option("--host <address>", "address the control plane listens on")
        .env("WAL_CONTROL_PLANE_HOST")
        .default("127.0.0.1"),
    )
    .addOption(
      new Option("--port <port>", "HTTP port of the control plane (0 picks a free one)")
        .env("WAL_CONTROL_PLANE_PORT")
        .default("8090"),
    )
    .action((options: Record<string, unknown>) =>
      runService("control-plane", (logger) => controlPlane(options, logger)),
    );
  addSettings(command, ["natsUrl", "kafkaBrokers", "metricsPort", "metricsHost"]);
}
