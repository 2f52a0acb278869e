import Fastify, { type FastifyError } from "fastify";
import { z } from "zod";
import {
  describeIssues,
  ErrorCode,
  isWalError,
  type NamespaceChange,
  NamespaceConflictError,
  type NamespaceRecord,
  type NamespaceStore,
  registryMediaType,
  WalError,
} from "../core/index.ts";
import type { DeadLetterService } from "../dead-letters/index.ts";
import type { Logger } from "../observability/index.ts";
import {
  RegistryError,
  RegistryErrorCode,
  registryPathPrefixes,
  registryRoutes,
  type SchemaRegistryService,
} from "../schema-registry/index.ts";
import { type ApiAccess, actorFrom, actorHeader, carriesAdminToken } from "./auth.ts";

export interface ControlPlaneApiOptions {
  store: NamespaceStore;
  access: ApiAccess;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** The DLQ tools; without it the dead-letter routes answer that Kafka is not configured. */
  deadLetters?: DeadLetterService;
  /** Serves the Confluent Schema Registry API beside the admin API when given. */
  registry?: SchemaRegistryService;
}

export interface RunningControlPlaneApi {
  /** The port bound (the one picked when asked for 0). */
  port: number;
  /** Stops taking connections, answers the requests in flight, then resolves. */
  stop(): Promise<void>;
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  code: string;
  message: string;
  /** The field at fault (dotted for config fields), or "". */
  field: string;
  /** On WAL_NAMESPACE_CONFLICT: the version to read and build on. */
  currentVersion?: number;
}

const statusByCode: Record<string, number> = {
  [ErrorCode.invalidConfig]: 400,
  [ErrorCode.invalidArgument]: 400,
  [ErrorCode.unauthorized]: 401,
  [ErrorCode.namespaceNotFound]: 404,
  [ErrorCode.deadLetterNotFound]: 404,
  [ErrorCode.namespaceExists]: 409,
  [ErrorCode.namespaceConflict]: 409,
  [ErrorCode.storeUnavailable]: 503,
};

/** The status and JSON body answering an error thrown while handling a request. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (isWalError(error)) {
    const body: ErrorBody = { code: error.code, message: error.message, field: error.field ?? "" };
    if (error instanceof NamespaceConflictError) body.currentVersion = error.currentVersion;
    return { status: statusByCode[error.code] ?? 500, body };
  }
  // Fastify's own refusals (malformed JSON, wrong content type, body too large) keep their status.
  const status = (error as Partial<FastifyError>).statusCode ?? 500;
  if (status < 500) {
    return {
      status,
      body: {
        code: ErrorCode.invalidArgument,
        message: `the request was refused: ${describe(error)}. Send a JSON body with Content-Type: application/json.`,
        field: "body",
      },
    };
  }
  return {
    status: 500,
    body: {
      code: ErrorCode.internal,
      message: `internal error: ${describe(error)}. Retry; if it persists, report it with the control plane's logs.`,
      field: "",
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const positiveVersion = z.number().int().min(1);
// Query strings are text; an absent or empty value must fail, not become 0.
const versionInQuery = z
  .string()
  .regex(/^[1-9][0-9]*$/, "must be a positive integer")
  .transform(Number);
const writeQuery = z.strictObject({
  dryRun: z
    .enum(["true", "false"])
    .optional()
    .transform((value) => value === "true"),
});
const updateBody = z.strictObject({
  config: z.record(z.string(), z.unknown()),
  expectedVersion: positiveVersion,
});
const deleteQuery = z.strictObject({ expectedVersion: versionInQuery });
const rollbackBody = z.strictObject({
  toVersion: positiveVersion,
  expectedVersion: positiveVersion,
});

/** Validates a request part; a failure names the field and shows the expected shape. */
function parseRequest<T extends z.ZodType>(
  schema: T,
  input: unknown,
  part: "body" | "query",
  expected: string,
): z.output<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const { field, message } = describeIssues(result.error, part);
  throw new WalError(ErrorCode.invalidArgument, `${message}. Expected ${part}: ${expected}`, {
    field,
  });
}

const dryRunShape = "?dryRun=true to validate without storing, or nothing";

const instant = z
  .string()
  .refine(
    (text) => !Number.isNaN(Date.parse(text)),
    "must be an ISO 8601 time such as 2026-11-26T12:00:00Z",
  )
  .transform((text) => Date.parse(text));
const deadLetterFilter = {
  id: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  key: z.string().optional(),
  code: z
    .string()
    .regex(/^WAL_[A-Z_]+$/, "must be a WAL error code")
    .optional(),
  from: instant.optional(),
  to: instant.optional(),
};
const deadLetterQuery = z.strictObject({
  ...deadLetterFilter,
  limit: z
    .string()
    .regex(/^[1-9][0-9]*$/, "must be a positive integer")
    .transform(Number)
    .optional(),
});
const redriveBody = z.strictObject({
  ...deadLetterFilter,
  all: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  ratePerSecond: z.number().positive().max(10_000).default(100),
  includeRedriven: z.boolean().default(false),
});
const filterShape = "id (one or more), key, code, from, to (ISO 8601)";

function toFilter(input: {
  id?: string | string[] | undefined;
  key?: string | undefined;
  code?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}) {
  return {
    ...(input.id === undefined ? {} : { ids: Array.isArray(input.id) ? input.id : [input.id] }),
    ...(input.key === undefined ? {} : { key: input.key }),
    ...(input.code === undefined ? {} : { code: input.code }),
    ...(input.from === undefined ? {} : { fromMs: input.from }),
    ...(input.to === undefined ? {} : { toMs: input.to }),
  };
}

/**
 * The namespaces admin API over HTTP/JSON. Every route needs the admin token
 * (unless access is explicitly "insecure-no-auth"); errors answer
 * `{ code, message, field }` with the status matching the code. With a
 * registry, the Confluent Schema Registry API is served on the same port:
 * reads are open (producers and gateways fetch schemas), changes need the
 * admin token.
 */
export async function startControlPlaneApi(
  options: ControlPlaneApiOptions,
): Promise<RunningControlPlaneApi> {
  const { store, access, logger } = options;
  const app = Fastify({ logger: false });

  app.setNotFoundHandler((request, reply) => {
    if (
      options.registry !== undefined &&
      registryPathPrefixes.some((prefix) => request.url.startsWith(prefix))
    ) {
      return reply
        .status(404)
        .type(registryMediaType)
        .send({
          error_code: 404,
          message: `HTTP 404 Not Found: no registry route ${request.method} ${request.url}`,
        });
    }
    return reply.status(404).send({
      code: ErrorCode.invalidArgument,
      message: `no route ${request.method} ${request.url}; the API serves /v1/namespaces, /v1/namespaces/:name, /v1/namespaces/:name/history, /v1/namespaces/:name/rollback, /v1/namespaces/:name/dead-letters${options.registry === undefined ? "" : ", and the schema registry under /subjects, /schemas, /config and /compatibility"}`,
      field: "",
    } satisfies ErrorBody);
  });

  await app.register((admin, _options, done) => {
    if (access !== "insecure-no-auth") {
      const { adminToken } = access;
      admin.addHook("onRequest", async (request) => {
        if (!carriesAdminToken(request.headers.authorization, adminToken)) {
          throw new WalError(
            ErrorCode.unauthorized,
            "this API needs the admin token: send 'Authorization: Bearer <token>' (the wal CLI sends --admin-token or WAL_ADMIN_TOKEN)",
            { field: "Authorization" },
          );
        }
      });
    }

    admin.setErrorHandler((error, request, reply) => {
      const { status, body } = errorResponse(error);
      if (status >= 500)
        logger.error({ err: error, method: request.method, url: request.url }, "request failed");
      if (status === 401) void reply.header("www-authenticate", 'Bearer realm="wal"');
      return reply.status(status).send(body);
    });

    // Only who changed what: the configs are in the history, and logs are no place for them.
    const changed = ({
      namespace,
      version,
      action,
      actor,
    }: Pick<NamespaceChange, "namespace" | "version" | "action" | "actor">) =>
      logger.info({ namespace, version, action, actor }, "namespace changed");

    admin.get("/v1/namespaces", async () => ({ namespaces: await store.list() }));

    admin.get<{ Params: { name: string } }>("/v1/namespaces/:name", async (request) =>
      store.get(request.params.name),
    );

    admin.post("/v1/namespaces", async (request, reply) => {
      const { dryRun } = parseRequest(writeQuery, request.query, "query", dryRunShape);
      const actor = actorFrom(request.headers[actorHeader]);
      const record = await store.create(request.body, { actor, dryRun });
      if (dryRun) return dryRunAnswer(record);
      changed({ namespace: record.name, version: record.version, action: "create", actor });
      return reply.status(201).header("location", `/v1/namespaces/${record.name}`).send(record);
    });

    admin.put<{ Params: { name: string } }>("/v1/namespaces/:name", async (request) => {
      const { dryRun } = parseRequest(writeQuery, request.query, "query", dryRunShape);
      const { config, expectedVersion } = parseRequest(
        updateBody,
        request.body,
        "body",
        '{ "config": <namespace config>, "expectedVersion": <the version you last read> }',
      );
      const actor = actorFrom(request.headers[actorHeader]);
      const { name } = request.params;
      const record = await store.update(name, config, expectedVersion, { actor, dryRun });
      if (dryRun) return dryRunAnswer(record);
      changed({ namespace: name, version: record.version, action: "update", actor });
      return record;
    });

    admin.delete<{ Params: { name: string } }>("/v1/namespaces/:name", async (request) => {
      const { expectedVersion } = parseRequest(
        deleteQuery,
        request.query,
        "query",
        "?expectedVersion=<the version you last read>",
      );
      const actor = actorFrom(request.headers[actorHeader]);
      const deletion = await store.delete(request.params.name, expectedVersion, { actor });
      changed(deletion);
      return deletion;
    });

    admin.get<{ Params: { name: string } }>("/v1/namespaces/:name/history", async (request) => ({
      changes: await store.history(request.params.name),
    }));

    admin.post<{ Params: { name: string } }>("/v1/namespaces/:name/rollback", async (request) => {
      const { toVersion, expectedVersion } = parseRequest(
        rollbackBody,
        request.body,
        "body",
        '{ "toVersion": <a version from the history>, "expectedVersion": <the current version> }',
      );
      const actor = actorFrom(request.headers[actorHeader]);
      const { name } = request.params;
      const record = await store.rollback(name, toVersion, expectedVersion, { actor });
      changed({ namespace: name, version: record.version, action: "rollback", actor });
      return record;
    });

    const deadLetters = (): DeadLetterService => {
      if (options.deadLetters === undefined) {
        throw new WalError(
          ErrorCode.invalidConfig,
          "this control plane has no Kafka connection for the DLQ tools; start it with --kafka-brokers (WAL_KAFKA_BROKERS)",
        );
      }
      return options.deadLetters;
    };

    admin.get<{ Params: { name: string } }>(
      "/v1/namespaces/:name/dead-letters",
      async (request) => {
        const query = parseRequest(
          deadLetterQuery,
          request.query,
          "query",
          `${filterShape}, limit`,
        );
        const letters = await deadLetters().list(request.params.name, toFilter(query));
        return { total: letters.length, deadLetters: letters.slice(0, query.limit ?? 100) };
      },
    );

    admin.get<{ Params: { name: string } }>(
      "/v1/namespaces/:name/dead-letters/redrives",
      async (request) => ({ redrives: await deadLetters().history(request.params.name) }),
    );

    admin.get<{ Params: { name: string; id: string } }>(
      "/v1/namespaces/:name/dead-letters/:id",
      async (request) => {
        const letters = await deadLetters().list(request.params.name, { ids: [request.params.id] });
        if (letters.length === 0) {
          throw new WalError(
            ErrorCode.deadLetterNotFound,
            `no entry '${request.params.id}' in the dead-letter queue of '${request.params.name}'; list them with GET /v1/namespaces/${request.params.name}/dead-letters`,
            { field: "id" },
          );
        }
        return { deadLetters: letters };
      },
    );

    admin.post<{ Params: { name: string } }>(
      "/v1/namespaces/:name/dead-letters/redrive",
      async (request) => {
        const body = parseRequest(
          redriveBody,
          request.body,
          "body",
          `{ ${filterShape}, or "all": true; "dryRun", "ratePerSecond", "includeRedriven" }`,
        );
        const filter = toFilter(body);
        if (Object.keys(filter).length === 0 && !body.all) {
          throw new WalError(
            ErrorCode.invalidArgument,
            'a redrive needs a filter (id, key, code, from, to) or "all": true, so nothing is redriven by accident',
            { field: "body" },
          );
        }
        const actor = actorFrom(request.headers[actorHeader]);
        return deadLetters().redrive(request.params.name, {
          filter,
          dryRun: body.dryRun,
          ratePerSecond: body.ratePerSecond,
          includeRedriven: body.includeRedriven,
          actor,
        });
      },
    );
    done();
  });

  if (options.registry !== undefined) {
    await app.register(registryRoutes, {
      service: options.registry,
      logger,
      authorizeWrite: (request) => {
        if (
          access !== "insecure-no-auth" &&
          !carriesAdminToken(request.headers.authorization, access.adminToken)
        ) {
          throw new RegistryError(
            RegistryErrorCode.unauthorized,
            "changing the schema registry needs the admin token: send it as the password of HTTP Basic (any user name) or as 'Authorization: Bearer <token>'",
          );
        }
      },
    });
  }

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    stop: () => app.close(),
  };
}

/** What a dry run answers: the record that would have been stored, marked as not stored. */
function dryRunAnswer(record: NamespaceRecord): NamespaceRecord & { dryRun: true } {
  return { ...record, dryRun: true };
}
