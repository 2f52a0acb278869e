import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { registryMediaType } from "../core/index.ts";
import type { Logger } from "../observability/index.ts";
import {
  parseSchemaId,
  parseVersionSpec,
  type SchemaRegistryService,
  type SchemaSubmission,
  type VersionSpec,
} from "./registry.ts";
import { RegistryError, RegistryErrorCode } from "./registry-error.ts";

/** The request bodies registry clients send: all JSON, under the registry's own media types too. */
const jsonContentTypes = [
  registryMediaType,
  "application/vnd.schemaregistry+json",
  "application/octet-stream",
];

/** The first segments of the registry's paths, to tell its requests from the rest of a server's. */
export const registryPathPrefixes = ["/subjects", "/schemas", "/config", "/compatibility"];

export interface RegistryRoutesOptions {
  service: SchemaRegistryService;
  /** Throws when a request may not change the registry (writes need the admin credential). */
  authorizeWrite: (request: FastifyRequest) => void;
  logger: Logger;
}

interface SubjectParams {
  subject: string;
}
interface VersionParams extends SubjectParams {
  version: string;
}
interface IdParams {
  id: string;
}
interface Flags {
  deleted?: string;
  permanent?: string;
  verbose?: string;
  defaultToGlobal?: string;
}

const flag = (value: string | undefined) => value === "true";

function submission(body: unknown): SchemaSubmission {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RegistryError(
      RegistryErrorCode.invalidSchema,
      'Invalid schema: send a JSON object such as {"schema": "<Avro schema as a JSON string>"}',
    );
  }
  return body as SchemaSubmission;
}

function compatibilityField(body: unknown): unknown {
  return typeof body === "object" && body !== null
    ? (body as { compatibility?: unknown }).compatibility
    : undefined;
}

/** The JSON of one subject version, as Confluent's server answers it (Avro omits schemaType). */
function versionBody(v: { subject: string; version: number; id: number; schema: string }) {
  return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
}

/**
 * The part of the Confluent Schema Registry REST API that producers and CI
 * use, over a `SchemaRegistryService`. Paths, status codes, error codes
 * (`{ error_code, message }`) and media type follow Confluent's documentation,
 * so a client written for that server works here unchanged.
 */
export function registryRoutes(
  app: FastifyInstance,
  options: RegistryRoutesOptions,
  done: (error?: Error) => void,
): void {
  const { service, authorizeWrite, logger } = options;

  app.addContentTypeParser(jsonContentTypes, { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, body === "" ? {} : JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("content-type", registryMediaType);
    return payload;
  });

  app.setErrorHandler((error: FastifyError | RegistryError, request, reply) => {
    if (error instanceof RegistryError) {
      if (error.status === 401) void reply.header("www-authenticate", 'Basic realm="wal"');
      return reply
        .status(error.status)
        .send({ error_code: error.errorCode, message: error.message });
    }
    const status = (error as FastifyError).statusCode ?? 500;
    if (status < 500) {
      return reply.status(status).send({
        error_code: status,
        message: `The request was refused: ${error.message}. Send JSON with Content-Type: ${registryMediaType}`,
      });
    }
    logger.error(
      { err: error, method: request.method, url: request.url },
      "registry request failed",
    );
    return reply.status(500).send({
      error_code: RegistryErrorCode.storeError,
      message: `Error in the backend data store: ${error.message}. Retry; if it persists, check the control plane's logs`,
    });
  });

  const write = (request: FastifyRequest) => authorizeWrite(request);

  app.get("/", async () => ({}));

  app.get("/schemas/types", async () => ["AVRO"]);

  app.get<{ Params: IdParams }>("/schemas/ids/:id", async (request) => ({
    schema: await service.schemaById(parseSchemaId(request.params.id)),
  }));

  app.get<{ Params: IdParams }>("/schemas/ids/:id/schema", async (request, reply) =>
    sendRawSchema(reply, await service.schemaById(parseSchemaId(request.params.id))),
  );

  app.get<{ Params: IdParams }>("/schemas/ids/:id/versions", async (request) =>
    service.subjectVersionsOfSchema(parseSchemaId(request.params.id)),
  );

  app.get<{ Querystring: Flags }>("/subjects", async (request) =>
    service.subjects(flag(request.query.deleted)),
  );

  app.get<{ Params: SubjectParams; Querystring: Flags }>(
    "/subjects/:subject/versions",
    async (request) => service.versions(request.params.subject, flag(request.query.deleted)),
  );

  app.get<{ Params: VersionParams; Querystring: Flags }>(
    "/subjects/:subject/versions/:version",
    async (request) =>
      versionBody(
        await service.version(
          request.params.subject,
          parseVersionSpec(request.params.version),
          flag(request.query.deleted),
        ),
      ),
  );

  app.get<{ Params: VersionParams; Querystring: Flags }>(
    "/subjects/:subject/versions/:version/schema",
    async (request, reply) => {
      const found = await service.version(
        request.params.subject,
        parseVersionSpec(request.params.version),
        flag(request.query.deleted),
      );
      return sendRawSchema(reply, found.schema);
    },
  );

  app.get<{ Params: VersionParams }>(
    "/subjects/:subject/versions/:version/referencedby",
    async (request) => {
      await service.version(
        request.params.subject,
        parseVersionSpec(request.params.version),
        false,
      );
      return [];
    },
  );

  app.post<{ Params: SubjectParams }>(
    "/subjects/:subject/versions",
    { onRequest: async (request) => write(request) },
    async (request) => {
      const { id } = await service.register(request.params.subject, submission(request.body));
      return { id };
    },
  );

  app.post<{ Params: SubjectParams; Querystring: Flags }>("/subjects/:subject", async (request) =>
    versionBody(
      await service.lookup(
        request.params.subject,
        submission(request.body),
        flag(request.query.deleted),
      ),
    ),
  );

  app.delete<{ Params: SubjectParams; Querystring: Flags }>(
    "/subjects/:subject",
    { onRequest: async (request) => write(request) },
    async (request) => service.deleteSubject(request.params.subject, flag(request.query.permanent)),
  );

  app.delete<{ Params: VersionParams; Querystring: Flags }>(
    "/subjects/:subject/versions/:version",
    { onRequest: async (request) => write(request) },
    async (request) =>
      service.deleteVersion(
        request.params.subject,
        parseVersionSpec(request.params.version),
        flag(request.query.permanent),
      ),
  );

  const compatibility = async (
    subject: string,
    spec: VersionSpec | undefined,
    body: unknown,
    verbose: boolean,
  ) => {
    const { isCompatible, messages } = await service.compatibility(subject, spec, submission(body));
    return verbose ? { is_compatible: isCompatible, messages } : { is_compatible: isCompatible };
  };

  app.post<{ Params: VersionParams; Querystring: Flags }>(
    "/compatibility/subjects/:subject/versions/:version",
    async (request) =>
      compatibility(
        request.params.subject,
        parseVersionSpec(request.params.version),
        request.body,
        flag(request.query.verbose),
      ),
  );

  app.post<{ Params: SubjectParams; Querystring: Flags }>(
    "/compatibility/subjects/:subject/versions",
    async (request) =>
      compatibility(request.params.subject, undefined, request.body, flag(request.query.verbose)),
  );

  app.get("/config", async () => ({ compatibilityLevel: await service.globalLevel() }));

  app.put("/config", { onRequest: async (request) => write(request) }, async (request) => ({
    compatibility: await service.setGlobalLevel(compatibilityField(request.body)),
  }));

  app.get<{ Params: SubjectParams; Querystring: Flags }>("/config/:subject", async (request) => ({
    compatibilityLevel: await service.subjectLevel(
      request.params.subject,
      flag(request.query.defaultToGlobal),
    ),
  }));

  app.put<{ Params: SubjectParams }>(
    "/config/:subject",
    { onRequest: async (request) => write(request) },
    async (request) => ({
      compatibility: await service.setSubjectLevel(
        request.params.subject,
        compatibilityField(request.body),
      ),
    }),
  );

  app.delete<{ Params: SubjectParams }>(
    "/config/:subject",
    { onRequest: async (request) => write(request) },
    async (request) => ({
      compatibilityLevel: await service.deleteSubjectLevel(request.params.subject),
    }),
  );
  done();
}

/** The schema text itself, as the `/schema` sub-resources answer it. */
function sendRawSchema(reply: FastifyReply, schema: string) {
  return reply.type(registryMediaType).send(schema);
}
