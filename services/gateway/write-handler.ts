import {
  buildEntry,
  checkPayload,
  Durability,
  describeError,
  ErrorCode,
  encodeEntry,
  isWalError,
  type LogAppender,
  type NamespaceConfig,
  type PayloadSchemas,
  topicNames,
  WalError,
  type WriteRequest,
  walHeaders,
} from "../core/index.ts";
import { injectTraceContext, type Logger, SpanKind, withSpanFrom } from "../observability/index.ts";

/** The answer to one WriteToLog, whatever the transport. */
export interface WriteResult {
  durable: Durability;
  id: string;
  message: string;
  code: string;
  field: string;
}

export interface WriteHandlerOptions {
  /** How long a write may wait for Kafka's acknowledgement. @default 5000 */
  writeTimeoutMs: number;
  /** Writes in flight at once; more are shed with WAL_OVERLOADED. @default 10000 */
  maxInFlight: number;
  /** The registry that payloads of namespaces declaring a `payload.subject` are checked against. */
  payloadSchemas: PayloadSchemas;
}

/**
 * The transport-independent WriteToLog: validates against the namespace,
 * appends the entry, and answers TRUE only once the log acknowledged it.
 * Never throws: every failure becomes an answer with a code and a reason.
 */
export class WriteHandler {
  private inFlight = 0;
  private draining = false;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly findNamespace: (name: string) => NamespaceConfig | undefined,
    private readonly appender: LogAppender,
    private readonly options: WriteHandlerOptions,
    private readonly logger: Logger,
  ) {}

  async write(
    request: WriteRequest,
    traceCarrier: Record<string, string | undefined>,
  ): Promise<WriteResult> {
    if (this.draining) {
      return failure(
        new WalError(
          ErrorCode.shuttingDown,
          "the gateway is shutting down; retry against another gateway",
          { canRetry: true },
        ),
        "",
      );
    }
    if (this.inFlight >= this.options.maxInFlight) {
      return failure(
        new WalError(
          ErrorCode.overloaded,
          `the gateway has ${this.inFlight} writes in flight, its limit; retry with backoff`,
          {
            canRetry: true,
          },
        ),
        "",
      );
    }
    this.inFlight += 1;
    try {
      return await withSpanFrom(
        traceCarrier,
        "wal.WriteToLog",
        SpanKind.SERVER,
        { "wal.namespace": request.namespace },
        (span) => this.append(request, (id) => span.setAttribute("wal.entry_id", id)),
      );
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /** Refuses new writes and resolves once every write in flight has its answer. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async append(request: WriteRequest, tagSpan: (id: string) => void): Promise<WriteResult> {
    let id = "";
    try {
      // Looked up once: the same config validates the write and checks its payload.
      const ns = this.findNamespace(request.namespace);
      const entry = buildEntry(request, () => ns, Date.now());
      id = entry.id;
      tagSpan(id);
      const subject = ns?.payload?.subject;
      // A delete needs no value: an empty payload of a DELETE is the one exception to the schema.
      const valueless = entry.target.operation === "DELETE" && entry.payload.length === 0;
      if (subject !== undefined && !valueless) {
        await checkPayload(entry.payload, subject, this.options.payloadSchemas);
      }
      await this.appender.append(
        {
          topic: topicNames.log(entry.namespace),
          key: entry.key,
          value: encodeEntry(entry),
          headers: injectTraceContext({
            [walHeaders.entryId]: entry.id,
            [walHeaders.attempt]: "0",
          }),
        },
        this.options.writeTimeoutMs,
      );
      this.logger.debug({ entry_id: id, namespace: entry.namespace, key: entry.key }, "durable");
      return { durable: Durability.true, id, message: "", code: "", field: "" };
    } catch (error) {
      const result = failure(error, id);
      const level =
        result.code === ErrorCode.invalidArgument || result.field !== "" ? "info" : "warn";
      this.logger[level](
        {
          entry_id: id,
          namespace: request.namespace,
          code: result.code,
          field: result.field,
          durable: result.durable,
        },
        result.message,
      );
      return result;
    }
  }
}

function failure(error: unknown, id: string): WriteResult {
  if (!isWalError(error)) {
    return {
      durable: Durability.false,
      id,
      message: `internal error: ${describeError(error)}`,
      code: ErrorCode.internal,
      field: "",
    };
  }
  return {
    durable: error.code === ErrorCode.logOutcomeUnknown ? Durability.unknown : Durability.false,
    id,
    message: error.message,
    code: error.code,
    field: error.field ?? "",
  };
}
