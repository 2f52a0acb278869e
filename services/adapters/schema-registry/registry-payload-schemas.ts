import avro from "avsc";
import {
  describeError,
  ErrorCode,
  type PayloadSchema,
  type PayloadSchemas,
  WalError,
} from "../../core/index.ts";
import { RegistryHttp } from "./registry-http.ts";

export interface RegistryPayloadSchemasOptions {
  /** Base URL of a Confluent-compatible registry; credentials in it are sent as HTTP Basic. */
  url: string;
  /** Per-request timeout. @default 3000 */
  timeoutMs?: number;
  /** How long a schema's subjects, or the absence of an id, are trusted before asking again. @default 30000 */
  recheckMs?: number;
  /** Answers kept at most, oldest dropped first. @default 10000 */
  maxEntries?: number;
}

/**
 * A bounded map of answers, each kept as long as `keepMs` says for it,
 * sharing one request among concurrent askers. A failed ask (the registry
 * unreachable) is not kept: the next caller asks again.
 */
class AnswerCache<T> {
  private readonly entries = new Map<string, { answer: Promise<T>; expiresAtMs: number }>();

  constructor(
    private readonly keepMs: (answer: T) => number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, ask: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached !== undefined && Date.now() < cached.expiresAtMs) return cached.answer;
    const entry = { answer: ask(), expiresAtMs: Number.POSITIVE_INFINITY };
    this.entries.delete(key);
    this.entries.set(key, entry);
    entry.answer.then(
      (value) => {
        entry.expiresAtMs = Date.now() + this.keepMs(value);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry.answer;
  }
}

/**
 * The gateway's view of the registry: schemas by id and the subjects that
 * use them, through two documented read calls (`GET /schemas/ids/{id}` and
 * `GET /schemas/ids/{id}/versions`). A found id never changes its schema, so
 * parsed schemas are kept; which subjects hold an id (versions get deleted)
 * and ids not found (they get registered) are asked again after `recheckMs`.
 */
export class RegistryPayloadSchemas implements PayloadSchemas {
  private readonly registry: RegistryHttp;
  private readonly schemas: AnswerCache<PayloadSchema | undefined>;
  private readonly subjects: AnswerCache<string[]>;

  constructor(options: RegistryPayloadSchemasOptions) {
    this.registry = new RegistryHttp(options.url, { timeoutMs: options.timeoutMs ?? 3_000 });
    const recheckMs = options.recheckMs ?? 30_000;
    const maxEntries = options.maxEntries ?? 10_000;
    this.schemas = new AnswerCache(
      (schema) => (schema === undefined ? recheckMs : Number.POSITIVE_INFINITY),
      maxEntries,
    );
    this.subjects = new AnswerCache(() => recheckMs, maxEntries);
  }

  schemaById(id: number): Promise<PayloadSchema | undefined> {
    return this.schemas.get(String(id), () => this.fetchSchema(id));
  }

  async isUnderSubject(subject: string, id: number): Promise<boolean> {
    const subjects = await this.subjects.get(String(id), async () => {
      const versions = await this.registry.get<Array<{ subject: string }>>(
        `/schemas/ids/${id}/versions`,
      );
      return (versions ?? []).map((v) => v.subject);
    });
    return subjects.includes(subject);
  }

  private async fetchSchema(id: number): Promise<PayloadSchema | undefined> {
    const answer = await this.registry.get<{ schema?: unknown; schemaType?: unknown }>(
      `/schemas/ids/${id}`,
    );
    return answer === undefined ? undefined : parsePayloadSchema(id, answer, this.registry.base);
  }
}

function parsePayloadSchema(
  id: number,
  answer: { schema?: unknown; schemaType?: unknown },
  registry: string,
): PayloadSchema {
  if (answer.schemaType !== undefined && answer.schemaType !== "AVRO") {
    return unreadable(id, `it is a ${String(answer.schemaType)} schema; WAL checks Avro payloads`);
  }
  try {
    const type = avro.Type.forSchema(JSON.parse(String(answer.schema)) as avro.Schema);
    return { decode: (body: Buffer) => type.fromBuffer(body) };
  } catch (error) {
    return unreadable(id, `the gateway cannot read it from ${registry}: ${describeError(error)}`);
  }
}

/** A schema the gateway cannot check payloads with: every payload naming it is refused, saying why. */
function unreadable(id: number, reason: string): PayloadSchema {
  return {
    decode: () => {
      throw new WalError(
        ErrorCode.invalidPayload,
        `schema id ${id} cannot be used for payloads (${reason}); register an Avro schema without references for the namespace's subject`,
      );
    },
  };
}
