import { readFileSync } from "node:fs";
import Fastify, { type FastifyError } from "fastify";
import { z } from "zod";
import {
  Durability,
  describeIssues,
  ErrorCode,
  type ErrorCode as ErrorCodeType,
} from "../core/index.ts";
import type { WriteHandler, WriteResult } from "./write-handler.ts";

export const openApiPath = new URL("../../schemas/openapi/wal.v1.yaml", import.meta.url);

const nonNegativeInt = z.number().int().min(0);

/** The HTTP/JSON mirror of WriteToLogRequest (camelCase, payload as base64 or text). */
const writeBody = z
  .strictObject({
    namespace: z.string(),
    key: z.string().default(""),
    idempotencyKey: z.string().default(""),
    payload: z.base64().optional(),
    payloadText: z.string().optional(),
    lifecycle: z
      .strictObject({
        delayMs: nonNegativeInt.default(0),
        deliverAtMs: nonNegativeInt.default(0),
        ttlMs: nonNegativeInt.default(0),
        jitterMs: nonNegativeInt.default(0),
      })
      .prefault({}),
    target: z
      .strictObject({
        name: z.string().default(""),
        operation: z.enum(["UPSERT", "DELETE"]).default("UPSERT"),
        resource: z.string().default(""),
      })
      .prefault({}),
  })
  .refine((b) => b.payload === undefined || b.payloadText === undefined, {
    message: "set payload (base64) or payloadText, not both",
    path: ["payload"],
  });

const statusByCode: Partial<Record<ErrorCodeType, number>> = {
  [ErrorCode.invalidArgument]: 400,
  [ErrorCode.namespaceNotFound]: 404,
  [ErrorCode.wrongShard]: 421,
  [ErrorCode.targetNotAllowed]: 403,
  [ErrorCode.clientNotAllowed]: 403,
  [ErrorCode.payloadTooLarge]: 413,
  [ErrorCode.invalidPayload]: 422,
  [ErrorCode.unknownSchema]: 422,
  [ErrorCode.schemaNotInSubject]: 422,
  [ErrorCode.registryUnavailable]: 503,
  [ErrorCode.overloaded]: 429,
  [ErrorCode.shuttingDown]: 503,
  [ErrorCode.logUnavailable]: 503,
  [ErrorCode.logOutcomeUnknown]: 504,
};

function httpStatus(result: WriteResult): number {
  if (result.durable === Durability.true) return 200;
  return statusByCode[result.code as ErrorCodeType] ?? 500;
}

function rejection(code: ErrorCodeType, field: string, message: string): WriteResult {
  return { durable: Durability.false, id: "", code, field, message };
}

/** Serves POST /v1/write (and health, OpenAPI) on the shared write handler. */
export async function startHttpServer(
  handler: WriteHandler,
  host: string,
  port: number,
  isReady: () => boolean,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024 });
  const openApi = readFileSync(openApiPath, "utf8");
  // Only JSON is accepted; anything else is answered 415 by the error handler below.
  app.removeContentTypeParser("text/plain");

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply
        .status(413)
        .send(rejection(ErrorCode.payloadTooLarge, "body", "request body exceeds 32 MiB"));
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply
        .status(415)
        .send(
          rejection(
            ErrorCode.invalidArgument,
            "body",
            "send the request as Content-Type: application/json",
          ),
        );
    }
    if ((error.statusCode ?? 500) < 500) {
      return reply
        .status(400)
        .send(
          rejection(ErrorCode.invalidArgument, "body", `body is not valid JSON: ${error.message}`),
        );
    }
    return reply
      .status(500)
      .send(rejection(ErrorCode.internal, "", `internal error: ${error.message}`));
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) =>
    isReady() ? { status: "ready" } : reply.status(503).send({ status: "not ready" }),
  );
  app.get("/openapi.yaml", async (_request, reply) => reply.type("application/yaml").send(openApi));

  app.post("/v1/write", async (request, reply) => {
    const parsed = writeBody.safeParse(request.body);
    if (!parsed.success) {
      const { field, message } = describeIssues(parsed.error, "body");
      return reply
        .status(400)
        .send(rejection(ErrorCode.invalidArgument, field, `${message}; see /openapi.yaml`));
    }
    const body = parsed.data;
    const payload =
      body.payload !== undefined
        ? Buffer.from(body.payload, "base64")
        : Buffer.from(body.payloadText ?? "", "utf8");
    const result = await handler.write(
      { ...body, payload },
      {
        traceparent: request.headers.traceparent as string | undefined,
        tracestate: request.headers.tracestate as string | undefined,
      },
    );
    return reply.status(httpStatus(result)).send(result);
  });

  await app.listen({ host, port });
  const address = app.server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : port,
    stop: () => app.close(),
  };
}
