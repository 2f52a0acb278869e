import avro from "avsc";
import { ErrorCode, type PayloadSchema, type PayloadSchemas, WalError } from "../../core/index.ts";
import { RegistryHttp } from "./registry-http.ts";

export interface RegistryPayloadSchemasOptions {
  /** Base URL of a Confluent-compatible registry; credentials in it are sent as HTTP Basic. */
  url: string;
  /** Per-request timeout. @default 3000 */
  timeoutMs?: number;
  /** How long an answer that an id or a membership is missing is kept before asking again. @default 5000 */
  negativeTtlMs?: number;
}

/**
 * The gateway's view of the registry: schemas by id and the subjects that
 * use them, through two documented read calls (`GET /schemas/ids/{id}` and
 * `GET /schemas/ids/{id}/versions`). A schema id never changes meaning, so
 * found schemas and memberships are kept for the process's life; refusals
 * are asked again after a short while, so a schema registered just now is
 * accepted without a restart.
 */
export class RegistryPayloadSchemas implements PayloadSchemas {
  private readonly registry: RegistryHttp;
  private readonly negativeTtlMs: number;
  private readonly schemas = new Map<number, PayloadSchema>();
  private readonly memberships = new Map<string, { member: boolean; atMs: number }>();
  private readonly missing = new Map<number, number>();

  constructor(options: RegistryPayloadSchemasOptions) {
    this.registry = new RegistryHttp(options.url, { timeoutMs: options.timeoutMs ?? 3_000 });
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
  }

  async schemaById(id: number): Promise<PayloadSchema | undefined> {
    const known = this.schemas.get(id);
    if (known !== undefined) return known;
    const missingSince = this.missing.get(id);
    if (missingSince !== undefined && Date.now() - missingSince < this.negativeTtlMs) {
      return undefined;
    }
    const answer = await this.registry.get<{ schema?: unknown; schemaType?: unknown }>(
      `/schemas/ids/${id}`,
    );
    if (answer === undefined) {
      this.missing.set(id, Date.now());
      return undefined;
    }
    const schema = parsePayloadSchema(id, answer);
    this.schemas.set(id, schema);
    this.missing.delete(id);
    return schema;
  }

  async isUnderSubject(subject: string, id: number): Promise<boolean> {
    const key = `${id}\u0000${subject}`;
    const known = this.memberships.get(key);
    if (known?.member === true) return true;
    if (known !== undefined && Date.now() - known.atMs < this.negativeTtlMs) return false;
    const versions =
      (await this.registry.get<Array<{ subject: string }>>(`/schemas/ids/${id}/versions`)) ?? [];
    const member = versions.some((v) => v.subject === subject);
    this.memberships.set(key, { member, atMs: Date.now() });
    return member;
  }
}

function parsePayloadSchema(
  id: number,
  answer: { schema?: unknown; schemaType?: unknown },
): PayloadSchema {
  if (answer.schemaType !== undefined && answer.schemaType !== "AVRO") {
    throw new WalError(
      ErrorCode.invalidPayload,
      `payload names schema id ${id}, a ${String(answer.schemaType)} schema; WAL validates Avro payloads only. Register an Avro schema for the namespace's subject`,
      { field: "payload" },
    );
  }
  const type = avro.Type.forSchema(JSON.parse(String(answer.schema)) as avro.Schema);
  return { decode: (body: Buffer) => type.fromBuffer(body) };
}
