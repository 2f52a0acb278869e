import assert from "node:assert/strict";
import { describe, it } from "node:test";
import avro from "avsc";
import { pino } from "pino";
import {
  decodeEntry,
  ErrorCode,
  type LogAppender,
  type LogRecord,
  type NamespaceConfig,
  type PayloadSchemas,
  parseNamespaceConfig,
  toWireFormat,
  WalError,
  type WriteRequest,
} from "../core/index.ts";
import { WriteHandler, type WriteHandlerOptions, type WriteResult } from "./write-handler.ts";

interface PendingAppend {
  record: LogRecord;
  timeoutMs: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A LogAppender whose appends stay pending until the test settles them. */
class FakeAppender implements LogAppender {
  readonly appends: PendingAppend[] = [];

  append(record: LogRecord, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.appends.push({ record, timeoutMs, resolve, reject });
    });
  }

  async close(): Promise<void> {}

  /** The n-th append (0-based); fails the test if it was not made. */
  at(index: number): PendingAppend {
    const pending = this.appends[index];
    assert.ok(pending !== undefined, `append #${index} was never called`);
    return pending;
  }
}

/** Lets every pending promise continuation run (no timers, no timing assumptions). */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled, to check that it is still pending. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  return { settled: () => settled, promise: tracked };
}

const orders = parseNamespaceConfig({
  name: "orders",
  limits: { maxPayloadBytes: 64 },
  targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
  defaultTarget: "cache",
});
const users = parseNamespaceConfig({
  name: "users",
  targets: { hook: { type: "webhook", url: "http://127.0.0.1:1/hook" } },
  defaultTarget: "hook",
});

const events = parseNamespaceConfig({
  name: "events",
  payload: { subject: "events-value" },
  targets: { hook: { type: "webhook", url: "http://127.0.0.1:1/hook" } },
  defaultTarget: "hook",
});

function findNamespace(name: string): NamespaceConfig | undefined {
  return [orders, users, events].find((ns) => ns.name === name);
}

const clickType = avro.Type.forSchema({
  type: "record",
  name: "Click",
  fields: [
    { name: "page", type: "string" },
    { name: "at", type: "long" },
  ],
});

/** An in-memory registry: schema 7 is under events-value, schema 8 only under another subject. */
class FakeRegistry implements PayloadSchemas {
  available = true;
  async schemaById(id: number) {
    this.requireAvailable();
    return id === 7 || id === 8
      ? { decode: (body: Buffer) => clickType.fromBuffer(body) }
      : undefined;
  }
  async isUnderSubject(subject: string, id: number) {
    this.requireAvailable();
    return subject === "events-value" && id === 7;
  }
  private requireAvailable() {
    if (!this.available) {
      throw new WalError(ErrorCode.registryUnavailable, "registry down", { canRetry: true });
    }
  }
}

function request(overrides: Partial<WriteRequest> = {}): WriteRequest {
  return {
    namespace: "orders",
    key: "order-1",
    idempotencyKey: "",
    payload: Buffer.from('{"total":42}'),
    lifecycle: { delayMs: 0, deliverAtMs: 0, ttlMs: 0 },
    target: { name: "", operation: "UPSERT", resource: "" },
    ...overrides,
  };
}

function setup(options: Partial<WriteHandlerOptions> = {}) {
  const appender = new FakeAppender();
  const handler = new WriteHandler(
    findNamespace,
    appender,
    { writeTimeoutMs: 1234, maxInFlight: 100, payloadSchemas: new FakeRegistry(), ...options },
    pino({ level: "silent" }),
  );
  return { appender, handler };
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("WriteHandler", () => {
  it("answers TRUE with the entry id only after the log acknowledged the append", async () => {
    const { appender, handler } = setup();
    const write = track(handler.write(request(), {}));
    await flush();
    assert.equal(appender.appends.length, 1);
    assert.equal(write.settled(), false, "answered before the append was acknowledged");

    appender.at(0).resolve();
    const result = await write.promise;
    assert.equal(result.durable, "TRUE");
    assert.match(result.id, uuid);
    assert.equal(result.id, appender.at(0).record.headers["wal-entry-id"]);
    assert.equal(result.code, "");
    assert.equal(result.field, "");
    assert.equal(result.message, "");
  });

  it("appends to the namespace's log topic with the key, envelope and WAL headers", async () => {
    const { appender, handler } = setup();
    const sent = request({
      key: "order-7",
      idempotencyKey: "client-req-7",
      payload: Buffer.from([0, 1, 2, 255]),
      lifecycle: { delayMs: 0, deliverAtMs: 0, ttlMs: 60_000 },
      target: { name: "cache", operation: "DELETE", resource: "orders/7" },
    });
    const write = handler.write(sent, {});
    await flush();
    const { record, timeoutMs } = appender.at(0);
    appender.at(0).resolve();
    const result = await write;

    assert.equal(record.topic, "wal.orders.log");
    assert.equal(record.key, "order-7");
    assert.equal(timeoutMs, 1234);
    assert.equal(record.headers["wal-entry-id"], result.id);
    assert.equal(record.headers["wal-attempt"], "0");

    const entry = decodeEntry(record.value);
    assert.equal(entry.id, result.id);
    assert.equal(entry.namespace, "orders");
    assert.equal(entry.key, "order-7");
    assert.deepEqual(entry.payload, Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(
      { ...entry.target },
      { name: "cache", operation: "DELETE", resource: "orders/7" },
    );
    assert.equal(entry.idempotencyKey, "client-req-7");
    assert.deepEqual(entry.attempts, []);
    assert.equal(entry.lifecycle.dueAtMs, null);
    assert.equal(entry.lifecycle.expiresAtMs, entry.createdAtMs + 60_000);
  });

  it("fills in the namespace's default target when the write names none", async () => {
    const { appender, handler } = setup();
    const write = handler.write(request({ namespace: "users", key: "u1" }), {});
    await flush();
    appender.at(0).resolve();
    assert.equal((await write).durable, "TRUE");
    assert.equal(appender.at(0).record.topic, "wal.users.log");
    assert.equal(decodeEntry(appender.at(0).record.value).target.name, "hook");
  });

  it("answers UNKNOWN when the log cannot confirm the outcome", async () => {
    const { appender, handler } = setup();
    const write = handler.write(request(), {});
    await flush();
    appender
      .at(0)
      .reject(new WalError(ErrorCode.logOutcomeUnknown, "sent, not confirmed", { canRetry: true }));
    const result = await write;
    assert.equal(result.durable, "UNKNOWN");
    assert.equal(result.code, "WAL_LOG_OUTCOME_UNKNOWN");
    assert.equal(result.id, appender.at(0).record.headers["wal-entry-id"]);
    assert.equal(result.message, "sent, not confirmed");
  });

  it("answers FALSE with the code when the log is unavailable", async () => {
    const { appender, handler } = setup();
    const write = handler.write(request(), {});
    await flush();
    appender.at(0).reject(new WalError(ErrorCode.logUnavailable, "nothing was written"));
    const result = await write;
    assert.equal(result.durable, "FALSE");
    assert.equal(result.code, "WAL_LOG_UNAVAILABLE");
    assert.equal(result.message, "nothing was written");
  });

  it("answers FALSE with WAL_INTERNAL when the append fails with a foreign error", async () => {
    const { appender, handler } = setup();
    const write = handler.write(request(), {});
    await flush();
    appender.at(0).reject(new TypeError("boom"));
    const result = await write;
    assert.equal(result.durable, "FALSE");
    assert.equal(result.code, "WAL_INTERNAL");
    assert.match(result.message, /boom/);
  });

  const invalid: Array<{
    name: string;
    write: Partial<WriteRequest>;
    code: string;
    field: string;
  }> = [
    {
      name: "an unknown namespace",
      write: { namespace: "nope" },
      code: "WAL_NAMESPACE_NOT_FOUND",
      field: "namespace",
    },
    {
      name: "a missing namespace",
      write: { namespace: "" },
      code: "WAL_INVALID_ARGUMENT",
      field: "namespace",
    },
    { name: "a missing key", write: { key: "" }, code: "WAL_INVALID_ARGUMENT", field: "key" },
    {
      name: "a payload above the namespace's limit",
      write: { payload: Buffer.alloc(65) },
      code: "WAL_PAYLOAD_TOO_LARGE",
      field: "payload",
    },
    {
      name: "an unknown operation",
      write: { target: { name: "", operation: "MERGE", resource: "" } },
      code: "WAL_INVALID_ARGUMENT",
      field: "target.operation",
    },
    {
      name: "a target the namespace does not declare",
      write: { target: { name: "hook", operation: "UPSERT", resource: "" } },
      code: "WAL_TARGET_NOT_ALLOWED",
      field: "target.name",
    },
    {
      name: "a delay longer than the topics keep",
      write: { lifecycle: { delayMs: 30 * 86_400_000, deliverAtMs: 0, ttlMs: 0 } },
      code: "WAL_INVALID_ARGUMENT",
      field: "lifecycle.delay_ms",
    },
  ];
  for (const { name, write, code, field } of invalid) {
    it(`answers FALSE for ${name} without appending`, async () => {
      const { appender, handler } = setup();
      const result = await handler.write(request(write), {});
      assert.equal(result.durable, "FALSE");
      assert.equal(result.code, code);
      assert.equal(result.field, field);
      assert.notEqual(result.message, "");
      assert.equal(appender.appends.length, 0);
    });
  }

  it("sheds writes beyond maxInFlight with WAL_OVERLOADED, and takes them again later", async () => {
    const { appender, handler } = setup({ maxInFlight: 2 });
    const first = handler.write(request({ key: "a" }), {});
    const second = handler.write(request({ key: "b" }), {});
    await flush();

    const shed = await handler.write(request({ key: "c" }), {});
    assert.equal(shed.durable, "FALSE");
    assert.equal(shed.code, "WAL_OVERLOADED");
    assert.equal(appender.appends.length, 2, "a shed write must not reach the log");

    appender.at(0).resolve();
    assert.equal((await first).durable, "TRUE");
    const third = handler.write(request({ key: "d" }), {});
    await flush();
    assert.equal(appender.appends.length, 3);
    appender.at(1).resolve();
    appender.at(2).resolve();
    assert.equal((await second).durable, "TRUE");
    assert.equal((await third).durable, "TRUE");
  });

  it("frees its in-flight slot when a write fails validation or the append fails", async () => {
    const { appender, handler } = setup({ maxInFlight: 1 });
    assert.equal(
      (await handler.write(request({ namespace: "nope" }), {})).code,
      "WAL_NAMESPACE_NOT_FOUND",
    );
    const failing = handler.write(request(), {});
    await flush();
    appender.at(0).reject(new WalError(ErrorCode.logUnavailable, "down"));
    assert.equal((await failing).code, "WAL_LOG_UNAVAILABLE");

    const next = handler.write(request(), {});
    await flush();
    appender.at(1).resolve();
    assert.equal((await next).durable, "TRUE");
  });

  it("drain() resolves only once in-flight writes answered, and refuses new writes", async () => {
    const { appender, handler } = setup();
    const inFlight = track(handler.write(request(), {}));
    await flush();
    const drained = track(handler.drain());

    const late = await handler.write(request({ key: "late" }), {});
    assert.equal(late.durable, "FALSE");
    assert.equal(late.code, "WAL_SHUTTING_DOWN");
    assert.equal(appender.appends.length, 1, "a write after drain() must not reach the log");

    await flush();
    assert.equal(drained.settled(), false, "drain() resolved while a write was in flight");
    assert.equal(inFlight.settled(), false);

    appender.at(0).resolve();
    await drained.promise;
    assert.equal(inFlight.settled(), true, "drain() resolved before the write had its answer");
    assert.equal((await inFlight.promise).durable, "TRUE");
  });

  it("drain() resolves at once when nothing is in flight", async () => {
    const { appender, handler } = setup();
    await handler.drain();
    const result = await handler.write(request(), {});
    assert.equal(result.code, "WAL_SHUTTING_DOWN");
    assert.equal(appender.appends.length, 0);
  });

  it("gives a retried write with the same idempotency key the same id", async () => {
    const { appender, handler } = setup();
    const answer = async (write: WriteRequest, unconfirmed = false): Promise<WriteResult> => {
      const pending = handler.write(write, {});
      await flush();
      const append = appender.appends.at(-1);
      if (unconfirmed) append?.reject(new WalError(ErrorCode.logOutcomeUnknown, "not confirmed"));
      else append?.resolve();
      return pending;
    };
    // The client retries a write it got UNKNOWN for, with the same idempotency key.
    const first = await answer(request({ idempotencyKey: "req-1" }), true);
    const retried = await answer(request({ idempotencyKey: "req-1" }));
    const other = await answer(request({ idempotencyKey: "req-2" }));
    const keyless1 = await answer(request());
    const keyless2 = await answer(request());

    assert.equal(appender.appends.length, 5);
    assert.equal(first.durable, "UNKNOWN");
    assert.equal(retried.durable, "TRUE");
    assert.equal(retried.id, first.id);
    assert.notEqual(other.id, first.id);
    assert.notEqual(keyless1.id, keyless2.id);
    assert.match(keyless1.id, uuid);
    const [a, b] = appender.appends;
    assert.equal(a?.record.headers["wal-entry-id"], b?.record.headers["wal-entry-id"]);
  });

  describe("payloads of a namespace with a payload subject", () => {
    const click = clickType.toBuffer({ page: "/home", at: 1_700_000_000_000 });
    const events = (payload: Buffer, overrides: Partial<WriteRequest> = {}) =>
      request({ namespace: "events", key: "k", payload, ...overrides });

    it("appends a wire-format payload of a schema under the subject", async () => {
      const { appender, handler } = setup();
      const write = handler.write(events(toWireFormat(7, click)), {});
      await flush();
      appender.at(0).resolve();
      assert.equal((await write).durable, "TRUE");
      assert.deepEqual(decodeEntry(appender.at(0).record.value).payload, toWireFormat(7, click));
    });

    const refusals: Array<[string, Buffer, string, RegExp]> = [
      [
        "plain JSON",
        Buffer.from('{"page":"/home"}'),
        "WAL_INVALID_PAYLOAD",
        /^payload is not in the Confluent wire format.*first bytes are 7b22706167\./,
      ],
      [
        "a wrong magic byte",
        Buffer.concat([Buffer.from([1, 0, 0, 0, 7]), click]),
        "WAL_INVALID_PAYLOAD",
        /wire format/,
      ],
      ["a header cut short", Buffer.from([0, 0, 0]), "WAL_INVALID_PAYLOAD", /wire format/],
      [
        "an unknown schema id",
        toWireFormat(99, click),
        "WAL_UNKNOWN_SCHEMA",
        /schema id 99.*does not have/,
      ],
      [
        "a schema of another subject",
        toWireFormat(8, click),
        "WAL_SCHEMA_NOT_IN_SUBJECT",
        /schema id 8.*not a version of subject 'events-value'/,
      ],
      [
        "a body that does not decode",
        toWireFormat(7, Buffer.from([0x02, 0x61])),
        "WAL_INVALID_PAYLOAD",
        /does not decode with schema id 7/,
      ],
      [
        "trailing bytes",
        toWireFormat(7, Buffer.concat([click, Buffer.from([1])])),
        "WAL_INVALID_PAYLOAD",
        /does not decode/,
      ],
    ];
    for (const [what, payload, code, message] of refusals) {
      it(`refuses ${what} with ${code}, appending nothing`, async () => {
        const { appender, handler } = setup();
        const result = await handler.write(events(payload), {});
        assert.equal(result.durable, "FALSE");
        assert.equal(result.code, code);
        assert.equal(result.field, "payload");
        assert.match(result.message, message);
        assert.equal(appender.appends.length, 0);
      });
    }

    it("answers FALSE with the retryable WAL_REGISTRY_UNAVAILABLE when the registry cannot be asked", async () => {
      const registry = new FakeRegistry();
      registry.available = false;
      const { appender, handler } = setup({ payloadSchemas: registry });
      const result = await handler.write(events(toWireFormat(7, click)), {});
      assert.equal(result.durable, "FALSE");
      assert.equal(result.code, "WAL_REGISTRY_UNAVAILABLE");
      assert.equal(appender.appends.length, 0);
    });

    it("lets a DELETE without a value through, and leaves namespaces without a subject alone", async () => {
      const { appender, handler } = setup();
      const deletion = handler.write(
        events(Buffer.alloc(0), { target: { name: "", operation: "DELETE", resource: "" } }),
        {},
      );
      const opaque = handler.write(request({ payload: Buffer.from("not avro") }), {});
      await flush();
      appender.at(0).resolve();
      appender.at(1).resolve();
      assert.equal((await deletion).durable, "TRUE");
      assert.equal((await opaque).durable, "TRUE");
    });
  });
});
