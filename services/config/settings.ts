import { type Command, Option } from "commander";
import { z } from "zod";
import { ErrorCode, WalError } from "../core/index.ts";

const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, "each broker must be host:port"))
      .min(1, "needs at least one broker"),
  );

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().min(1);

interface SettingSpec<T extends z.ZodType> {
  flag: string;
  /** Never echoed in an error (it may hold a password or a token). */
  secret?: boolean;
  env: string;
  defaultValue: string;
  description: string;
  schema: T;
}

function spec<T extends z.ZodType>(s: SettingSpec<T>): SettingSpec<T> {
  return s;
}

/**
 * Every runtime setting: its flag, its environment fallback, its default and
 * the rule it must pass. Commands pick the ones they need; all are validated
 * at start by `readSettings`, which names the flag, the variable and the value.
 */
export const settingSpecs = {
  kafkaBrokers: spec({
    flag: "--kafka-brokers <list>",
    env: "WAL_KAFKA_BROKERS",
    defaultValue: "127.0.0.1:9092",
    description: "Kafka bootstrap brokers, comma-separated host:port",
    schema: hostPortList,
  }),
  namespaces: spec({
    flag: "--namespaces <file>",
    env: "WAL_NAMESPACES_FILE",
    defaultValue: "topology/namespaces.json",
    description: "JSON file declaring the namespaces served",
    schema: z.string().min(1),
  }),
  host: spec({
    flag: "--host <address>",
    env: "WAL_HOST",
    defaultValue: "127.0.0.1",
    description: "address the gateway listens on",
    schema: z.string().min(1),
  }),
  grpcPort: spec({
    flag: "--grpc-port <port>",
    env: "WAL_GRPC_PORT",
    defaultValue: "50051",
    description: "gRPC port of the gateway (0 picks a free one)",
    schema: port,
  }),
  httpPort: spec({
    flag: "--http-port <port>",
    env: "WAL_HTTP_PORT",
    defaultValue: "8080",
    description: "HTTP/JSON port of the gateway (0 picks a free one)",
    schema: port,
  }),
  writeTimeoutMs: spec({
    flag: "--write-timeout-ms <ms>",
    env: "WAL_WRITE_TIMEOUT_MS",
    defaultValue: "5000",
    description:
      "how long a write waits for Kafka's acknowledgement before answering FALSE or UNKNOWN",
    schema: positiveInt.max(600_000),
  }),
  maxInFlight: spec({
    flag: "--max-in-flight <n>",
    env: "WAL_MAX_IN_FLIGHT",
    defaultValue: "10000",
    description: "writes in flight at once before the gateway sheds with WAL_OVERLOADED",
    schema: positiveInt,
  }),
  tlsCert: spec({
    flag: "--tls-cert <file>",
    env: "WAL_TLS_CERT",
    defaultValue: "",
    description: "PEM certificate chain of the gateway's gRPC server; with --tls-key it serves TLS",
    schema: z.string(),
  }),
  tlsKey: spec({
    flag: "--tls-key <file>",
    env: "WAL_TLS_KEY",
    defaultValue: "",
    description: "PEM private key of --tls-cert",
    schema: z.string(),
  }),
  tlsClientCa: spec({
    flag: "--tls-client-ca <file>",
    env: "WAL_TLS_CLIENT_CA",
    defaultValue: "",
    description:
      "PEM CA bundle: clients must present a certificate it signed (mutual TLS); needs --tls-cert",
    schema: z.string(),
  }),
  metricsPort: spec({
    flag: "--metrics-port <port>",
    env: "WAL_METRICS_PORT",
    defaultValue: "0",
    description:
      "serve Prometheus metrics at http://<metrics host>:<port>/metrics (0: no metrics endpoint)",
    schema: port,
  }),
  metricsHost: spec({
    flag: "--metrics-host <address>",
    env: "WAL_METRICS_HOST",
    defaultValue: "127.0.0.1",
    description: "address the metrics endpoint listens on",
    schema: z.string().min(1),
  }),
  sessionTimeoutMs: spec({
    flag: "--session-timeout-ms <ms>",
    env: "WAL_SESSION_TIMEOUT_MS",
    defaultValue: "30000",
    description:
      "how soon the group gives a dead processor's partitions to another (broker allows 6000 and up)",
    schema: z.coerce.number().int().min(6_000).max(300_000),
  }),
  shard: spec({
    flag: "--shard <name>",
    env: "WAL_SHARD",
    defaultValue: "default",
    description: "the shard this service serves: only namespaces whose config names it",
    schema: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be lowercase letters, digits and '-'"),
  }),
  namespaceSource: spec({
    flag: "--namespace-source <source>",
    env: "WAL_NAMESPACE_SOURCE",
    defaultValue: "file",
    description:
      "where namespaces come from: 'file' (--namespaces, fixed until restart) or 'control-plane' (PostgreSQL at --database-url, changes live over --nats-url)",
    schema: z.enum(["file", "control-plane"]),
  }),
  databaseUrl: spec({
    flag: "--database-url <url>",
    secret: true,
    env: "WAL_DATABASE_URL",
    defaultValue: "postgres://postgres@127.0.0.1:5432/wal",
    description: "PostgreSQL of the control plane (with --namespace-source control-plane)",
    schema: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
  }),
  natsUrl: spec({
    flag: "--nats-url <url>",
    secret: true,
    env: "WAL_NATS_URL",
    defaultValue: "nats://127.0.0.1:4222",
    description: "NATS server that carries the control plane's namespace change notifications",
    schema: z.string().regex(/^nats:\/\/[^\s/]+$/, "must be nats://host:port"),
  }),
  schemaRegistryUrl: spec({
    flag: "--schema-registry-url <url>",
    secret: true,
    env: "WAL_SCHEMA_REGISTRY_URL",
    defaultValue: "http://127.0.0.1:8090",
    description:
      "Confluent-compatible schema registry (the control plane serves one); user:password@ in the URL is sent as HTTP Basic",
    schema: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
  }),
  gateway: spec({
    flag: "--gateway <host:port>",
    env: "WAL_GATEWAY",
    defaultValue: "127.0.0.1:50051",
    description: "gRPC address of a WAL gateway",
    schema: z.string().regex(/^[^\s:]+:\d{1,5}$/, "must be host:port"),
  }),
} as const;

// Keys equal commander's attribute names of the flags, so parsed options map one to one.
type Specs = typeof settingSpecs;
export type SettingName = keyof Specs;
export type Settings<K extends SettingName> = { [P in K]: z.output<Specs[P]["schema"]> };

/** Adds the named settings to a command as options with environment fallbacks. */
export function addSettings(command: Command, names: readonly SettingName[]): Command {
  for (const name of names) {
    const s = settingSpecs[name];
    command.addOption(new Option(s.flag, s.description).env(s.env).default(s.defaultValue));
  }
  return command;
}

/** Validates the named settings from parsed options; throws WAL_INVALID_CONFIG naming flag, variable and value. */
export function readSettings<K extends SettingName>(
  options: Record<string, unknown>,
  names: readonly K[],
): Settings<K> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const s = settingSpecs[name];
    const raw = options[name] ?? s.defaultValue;
    const result = s.schema.safeParse(raw);
    if (!result.success) {
      const flag = s.flag.split(" ")[0];
      throw new WalError(
        ErrorCode.invalidConfig,
        `${flag} (or ${s.env})${"secret" in s && s.secret ? "" : ` = '${String(raw)}'`} is invalid: ${result.error.issues.map((i) => i.message).join("; ")}`,
        { field: name },
      );
    }
    out[name] = result.data;
  }
  return out as Settings<K>;
}
