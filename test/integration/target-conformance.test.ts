import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it, type TestContext } from "node:test";
import type { Consumer } from "kafkajs";
import memjs from "memjs";
import { pino } from "pino";
import { WebhookTarget } from "../../services/adapters/http/index.ts";
import {
  createIdempotentProducer,
  createKafka,
  KafkaTopicTarget,
  RecyclingProducer,
} from "../../services/adapters/kafka/index.ts";
import { MemcachedTarget } from "../../services/adapters/memcached/index.ts";
import {
  type Delivery,
  ErrorCode,
  isWalError,
  type Operation,
  type Target,
  walHeaders,
} from "../../services/core/index.ts";
import { deleteTopicsAndGroups, testKafka } from "../support/kafka.ts";
import {
  eventually,
  freePort,
  kafkaBrokers,
  memcachedServers,
  uniqueName,
} from "../support/servers.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const silent = pino({ level: "silent" });
const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** One delivery as a destination that records deliveries (HTTP endpoint, Kafka topic) saw it. */
interface Received {
  operation: Operation;
  /** The body or record value; null for a DELETE (no body, tombstone). */
  payload: Buffer | null;
  entryId: string;
  version: bigint;
  traceparent: string | undefined;
}

/** A target under test and the means to look at what its destination holds. */
interface Fixture {
  target: Target;
  expectedKind: string;
  /**
   * What the destination shows for `key` now: the payload, null once deleted
   * (or never written, for a store), undefined while nothing has arrived.
   */
  current(key: string): Promise<Buffer | null | undefined>;
  /**
   * Every delivery that reached the destination for `key`, in arrival order.
   * Absent for stores that only keep the latest value (memcached).
   */
  received?: (key: string) => Promise<Received[]>;
  /** Removes what a test left under `key`. */
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

interface DeliveryOptions {
  version: bigint;
  /** @default 0 */
  partition?: number;
  operation?: Operation;
  payload?: Buffer;
  id?: string;
  resource?: string | null;
  traceHeaders?: Record<string, string>;
}

function delivery(key: string, options: DeliveryOptions): Delivery {
  return {
    entry: {
      id: options.id ?? randomUUID(),
      namespace: "conformance",
      key,
      createdAtMs: Date.now(),
      lifecycle: { dueAtMs: null, expiresAtMs: null },
      target: {
        name: "main",
        operation: options.operation ?? "UPSERT",
        resource: options.resource ?? null,
      },
      idempotencyKey: null,
      attempts: [],
      originRegion: null,
      payload: options.payload ?? Buffer.alloc(0),
    },
    partition: options.partition ?? 0,
    version: options.version,
    traceHeaders: options.traceHeaders ?? {},
  };
}

function isTargetFailure(
  error: unknown,
  kind: "transient" | "permanent",
  retryAfterMs?: number,
): boolean {
  if (!isWalError(error)) return false;
  const code = kind === "transient" ? ErrorCode.targetTransient : ErrorCode.targetPermanent;
  assert.equal(error.code, code, error.message);
  assert.equal((error as { kind?: unknown }).kind, kind);
  if (retryAfterMs !== undefined) {
    assert.equal((error as { retryAfterMs?: unknown }).retryAfterMs, retryAfterMs);
  }
  return true;
}

/** Waits until `read` shows `expected` (a payload, or null for "deleted"). */
async function currentBecomes(
  fixture: Fixture,
  key: string,
  expected: Buffer | null,
): Promise<void> {
  await eventually(`'${key}' to read back ${String(expected)}`, 20_000, async () => {
    const now = await fixture.current(key);
    if (expected === null) return now === null ? true : undefined;
    return now?.equals(expected) ? true : undefined;
  });
}

async function receivedAtLeast(
  received: (key: string) => Promise<Received[]>,
  key: string,
  count: number,
): Promise<Received[]> {
  return eventually(`${count} deliveries for '${key}'`, 20_000, async () => {
    const all = await received(key);
    return all.length >= count ? all : undefined;
  });
}

/**
 * The shared contract of the Target port, run against one adapter whose
 * fixture connects it to a real destination.
 */
function conformance(name: string, makeFixture: () => Promise<Fixture>): void {
  describe(`Target conformance: ${name}`, () => {
    let fixture: Fixture;

    before(async () => {
      fixture = await makeFixture();
    });
    after(async () => {
      await fixture?.close();
    });

    function newKey(t: TestContext): string {
      const key = uniqueName("conf-key");
      t.after(() => fixture.forget(key));
      return key;
    }

    it("sets its kind", () => {
      assert.equal(fixture.target.kind, fixture.expectedKind);
    });

    it("applies an UPSERT so that the payload reads back", async (t) => {
      const key = newKey(t);
      const payload = Buffer.from(`value of ${key} ✓`);
      await fixture.target.apply(delivery(key, { version: 1n, payload }));
      await currentBecomes(fixture, key, payload);
    });

    it("applies a later UPSERT over an earlier one", async (t) => {
      const key = newKey(t);
      await fixture.target.apply(delivery(key, { version: 1n, payload: Buffer.from("first") }));
      await fixture.target.apply(delivery(key, { version: 2n, payload: Buffer.from("second") }));
      await currentBecomes(fixture, key, Buffer.from("second"));
    });

    it("applies a DELETE so that the key no longer holds the payload", async (t) => {
      const key = newKey(t);
      const payload = Buffer.from("to be deleted");
      await fixture.target.apply(delivery(key, { version: 1n, payload }));
      await currentBecomes(fixture, key, payload);
      const del = delivery(key, { version: 2n, operation: "DELETE" });
      await fixture.target.apply(del);
      await currentBecomes(fixture, key, null);
      if (fixture.received !== undefined) {
        const [upsert, deleted] = await receivedAtLeast(fixture.received, key, 2);
        assert.equal(upsert?.operation, "UPSERT");
        assert.equal(deleted?.operation, "DELETE");
        assert.equal(deleted?.payload, null);
        assert.equal(deleted?.entryId, del.entry.id);
        assert.equal(deleted?.version, 2n);
      }
    });

    it("writes under the entry's target resource when it names one", async (t) => {
      const key = newKey(t);
      const resource = newKey(t);
      const payload = Buffer.from("by resource");
      await fixture.target.apply(delivery(key, { version: 1n, payload, resource }));
      await currentBecomes(fixture, resource, payload);
      const underKey = await fixture.current(key);
      assert.ok(underKey === null || underKey === undefined, "nothing lands under the key");
    });

    it("applies the same delivery twice without a visible change", async (t) => {
      const key = newKey(t);
      const payload = Buffer.from("applied twice");
      const twice = delivery(key, { version: 7n, payload });
      await fixture.target.apply(twice);
      await currentBecomes(fixture, key, payload);
      await fixture.target.apply(twice);
      await currentBecomes(fixture, key, payload);

      if (fixture.received === undefined) return;
      // A destination that sees every delivery gets the same identity on both,
      // so its consumer can drop the repeat.
      const all = await receivedAtLeast(fixture.received, key, 2);
      assert.equal(all.length, 2);
      for (const seen of all) {
        assert.equal(seen.entryId, twice.entry.id);
        assert.equal(seen.version, 7n);
        assert.deepEqual(seen.payload, payload);
      }
    });
  });
}

// ---------------------------------------------------------------- memcached

function rawMemcached(servers: string): memjs.Client {
  return memjs.Client.create(servers, { retries: 1, timeout: 1, logger: { log: () => {} } });
}

async function memcachedFixture(): Promise<Fixture & { prefix: string; raw: memjs.Client }> {
  const prefix = `${uniqueName("wal-conf")}:`;
  const target = new MemcachedTarget(
    { servers: memcachedServers, keyPrefix: prefix, expiresSeconds: 0 },
    silent,
  );
  const raw = rawMemcached(memcachedServers);
  return {
    target,
    expectedKind: "memcached",
    prefix,
    raw,
    async current(key) {
      const { value } = await raw.get(prefix + key);
      return value;
    },
    async forget(key) {
      await raw.delete(prefix + key);
      await raw.delete(MemcachedTarget.versionKey(prefix + key));
    },
    async close() {
      await target.close();
      raw.close();
    },
  };
}

// ------------------------------------------------------------------ webhook

/** A fixture whose destination records every delivery it receives. */
type RecordingFixture = Fixture & { received: (key: string) => Promise<Received[]> };

async function webhookFixture(): Promise<RecordingFixture & { receiver: WebhookReceiver }> {
  const receiver = await WebhookReceiver.start();
  const target = new WebhookTarget({ url: receiver.url, timeoutMs: 5_000 });
  const received = async (key: string): Promise<Received[]> =>
    receiver.calls
      .filter((call) => call.key === key)
      .map((call) => ({
        operation: call.method === "DELETE" ? "DELETE" : "UPSERT",
        payload: call.method === "DELETE" ? null : Buffer.from(call.body, "utf8"),
        entryId: call.entryId,
        version: call.version,
        traceparent: call.traceparent,
      }));
  return {
    target,
    expectedKind: "webhook",
    receiver,
    received,
    async current(key) {
      const last = (await received(key)).at(-1);
      return last === undefined ? undefined : last.payload;
    },
    async forget() {},
    async close() {
      await target.close();
      await receiver.close();
    },
  };
}

// -------------------------------------------------------------- kafka topic

interface TopicRecord {
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

async function createTopic(topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
  } finally {
    await admin.disconnect();
  }
}

/** Reads every record of `topic` from the beginning into `records`, until disconnected. */
async function readTopic(
  topic: string,
  groupId: string,
  records: TopicRecord[],
): Promise<Consumer> {
  const consumer = testKafka().consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        const first = Array.isArray(value) ? value[0] : value;
        if (first !== undefined) headers[name] = first.toString();
      }
      records.push({ key: message.key?.toString() ?? "", value: message.value, headers });
    },
  });
  return consumer;
}

async function connectedProducer(): Promise<RecyclingProducer> {
  const kafka = createKafka({ brokers: kafkaBrokers, clientId: uniqueName("wal-conf") }, silent);
  const producer = new RecyclingProducer(() => createIdempotentProducer(kafka));
  await producer.connect();
  return producer;
}

async function kafkaTopicFixture(): Promise<RecordingFixture & { records: TopicRecord[] }> {
  const topic = uniqueName("wal-conf-topic");
  const groupId = uniqueName("wal-conf-reader");
  await createTopic(topic);
  const records: TopicRecord[] = [];
  const consumer = await readTopic(topic, groupId, records);
  const producer = await connectedProducer();
  const target = new KafkaTopicTarget(producer, topic);
  const received = async (key: string): Promise<Received[]> =>
    records
      .filter((record) => record.key === key)
      .map((record) => ({
        operation: record.value === null ? "DELETE" : "UPSERT",
        payload: record.value,
        entryId: record.headers[walHeaders.entryId] ?? "",
        version: BigInt(record.headers["wal-version"] ?? "-1"),
        traceparent: record.headers.traceparent,
      }));
  return {
    target,
    expectedKind: "kafka-topic",
    records,
    received,
    async current(key) {
      const last = (await received(key)).at(-1);
      return last === undefined ? undefined : last.payload;
    },
    async forget() {},
    async close() {
      await target.close();
      await consumer.disconnect();
      await producer.disconnect();
      await deleteTopicsAndGroups([topic], [groupId]);
    },
  };
}

conformance("MemcachedTarget", memcachedFixture);
conformance("WebhookTarget", webhookFixture);
conformance("KafkaTopicTarget", kafkaTopicFixture);

// ------------------------------------------------------- adapter-specific

describe("MemcachedTarget against memcached", () => {
  let fixture: Awaited<ReturnType<typeof memcachedFixture>>;

  before(async () => {
    fixture = await memcachedFixture();
  });
  after(async () => {
    await fixture?.close();
  });

  function newKey(t: TestContext): string {
    const key = uniqueName("mc-key");
    t.after(() => fixture.forget(key));
    return key;
  }

  it("ignores an older version applied after a newer one", async (t) => {
    const key = newKey(t);
    await fixture.target.apply(delivery(key, { version: 10n, payload: Buffer.from("newer") }));
    await fixture.target.apply(delivery(key, { version: 5n, payload: Buffer.from("older") }));
    assert.deepEqual(await fixture.current(key), Buffer.from("newer"));
  });

  it("compares versions only within one partition: another partition's entry applies", async (t) => {
    const key = newKey(t);
    await fixture.target.apply(
      delivery(key, { partition: 0, version: 900n, payload: Buffer.from("partition 0") }),
    );
    await fixture.target.apply(
      delivery(key, { partition: 3, version: 5n, payload: Buffer.from("partition 3") }),
    );
    assert.deepEqual(await fixture.current(key), Buffer.from("partition 3"));
  });

  it("does not bring a deleted value back with an older UPSERT", async (t) => {
    const key = newKey(t);
    await fixture.target.apply(delivery(key, { version: 1n, payload: Buffer.from("first") }));
    await fixture.target.apply(delivery(key, { version: 3n, operation: "DELETE" }));
    assert.equal(await fixture.current(key), null);
    await fixture.target.apply(delivery(key, { version: 2n, payload: Buffer.from("late") }));
    assert.equal(await fixture.current(key), null);
  });

  it("skips a redelivery of the version it already holds (writes nothing)", async (t) => {
    const key = newKey(t);
    const twice = delivery(key, { version: 4n, payload: Buffer.from("from the log") });
    await fixture.target.apply(twice);
    // Someone else changes the item; a redelivery of version 4 must not touch it.
    await fixture.raw.set(fixture.prefix + key, "changed elsewhere", { expires: 0 });
    await fixture.target.apply(twice);
    assert.deepEqual(await fixture.current(key), Buffer.from("changed elsewhere"));
  });

  it("throws a transient TargetError when memcached is unreachable", async (t) => {
    const port = await freePort();
    const target = new MemcachedTarget(
      { servers: `127.0.0.1:${port}`, keyPrefix: "", expiresSeconds: 0 },
      silent,
    );
    t.after(() => target.close());
    await assert.rejects(
      target.apply(delivery(uniqueName("mc-key"), { version: 1n, payload: Buffer.from("x") })),
      (error) => isTargetFailure(error, "transient"),
    );
  });

  it("throws a permanent TargetError for a payload above the item limit, writing nothing", async (t) => {
    const key = newKey(t);
    const payload = Buffer.alloc(1024 * 1024, 1);
    await assert.rejects(fixture.target.apply(delivery(key, { version: 1n, payload })), (error) =>
      isTargetFailure(error, "permanent"),
    );
    assert.equal(await fixture.current(key), null);
  });

  it("throws a permanent TargetError for a key above memcached's key limit", async () => {
    const key = `${uniqueName("mc-key")}-${"k".repeat(300)}`;
    await assert.rejects(
      fixture.target.apply(delivery(key, { version: 1n, payload: Buffer.from("x") })),
      (error) => isTargetFailure(error, "permanent"),
    );
  });
});

/** An HTTP endpoint that keeps each request's raw body bytes and headers. */
async function startRawRecorder() {
  const requests: { method: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({
        method: request.method ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/raw`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("WebhookTarget against an HTTP server", () => {
  let fixture: Awaited<ReturnType<typeof webhookFixture>>;

  before(async () => {
    fixture = await webhookFixture();
  });
  after(async () => {
    await fixture?.close();
  });

  const failures: Array<{ status: number; kind: "transient" | "permanent" }> = [
    { status: 500, kind: "transient" },
    { status: 429, kind: "transient" },
    { status: 400, kind: "permanent" },
  ];
  for (const { status, kind } of failures) {
    it(`treats HTTP ${status} as ${kind}`, async () => {
      const key = uniqueName("hook-key");
      fixture.receiver.failNext(1, status);
      await assert.rejects(
        fixture.target.apply(delivery(key, { version: 1n, payload: Buffer.from("x") })),
        (error) => isTargetFailure(error, kind),
      );
      // The failed call was answered with an error, so nothing was recorded as received.
      assert.deepEqual(await fixture.received(key), []);
    });
  }

  it("treats HTTP 503 with Retry-After: 2 as transient, to retry after 2000 ms", async () => {
    fixture.receiver.failNext(1, 503, "2");
    await assert.rejects(
      fixture.target.apply(
        delivery(uniqueName("hook-key"), { version: 1n, payload: Buffer.from("x") }),
      ),
      (error) => isTargetFailure(error, "transient", 2000),
    );
  });

  it("succeeds again once the endpoint recovers", async () => {
    const key = uniqueName("hook-key");
    const again = delivery(key, { version: 3n, payload: Buffer.from("after recovery") });
    fixture.receiver.failNext(1, 502);
    await assert.rejects(fixture.target.apply(again), (error) =>
      isTargetFailure(error, "transient"),
    );
    await fixture.target.apply(again);
    const [call] = await fixture.received(key);
    assert.equal(call?.entryId, again.entry.id);
    assert.deepEqual(call?.payload, Buffer.from("after recovery"));
  });

  it("treats an unreachable URL as transient", async () => {
    const port = await freePort();
    const target = new WebhookTarget({ url: `http://127.0.0.1:${port}/hook`, timeoutMs: 5_000 });
    await assert.rejects(
      target.apply(delivery(uniqueName("hook-key"), { version: 1n, payload: Buffer.from("x") })),
      (error) => isTargetFailure(error, "transient"),
    );
  });

  it("forwards the traceparent of the delivery's trace headers", async () => {
    const key = uniqueName("hook-key");
    await fixture.target.apply(
      delivery(key, { version: 1n, payload: Buffer.from("traced"), traceHeaders: { traceparent } }),
    );
    const [call] = await fixture.received(key);
    assert.equal(call?.traceparent, traceparent);
  });

  it("sends the payload bytes exactly, with the entry id and version headers", async (t) => {
    const recorder = await startRawRecorder();
    t.after(() => recorder.close());
    const target = new WebhookTarget({ url: recorder.url, timeoutMs: 5_000 });
    // Every byte value, including ones that are not valid UTF-8.
    const payload = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    const sent = delivery("binary key/é", {
      partition: 2,
      version: 42n,
      payload,
      traceHeaders: { traceparent },
    });
    await target.apply(sent);

    assert.equal(recorder.requests.length, 1);
    const [request] = recorder.requests;
    assert.equal(request?.method, "POST");
    assert.ok(request?.body.equals(payload), "body bytes differ from the payload");
    assert.equal(request?.headers["idempotency-key"], sent.entry.id);
    assert.equal(request?.headers["wal-version"], "42");
    assert.equal(request?.headers["wal-partition"], "2");
    assert.equal(request?.headers.traceparent, traceparent);
    assert.equal(decodeURIComponent(String(request?.headers["wal-key"])), "binary key/é");
  });
});

describe("KafkaTopicTarget against Kafka", () => {
  let fixture: Awaited<ReturnType<typeof kafkaTopicFixture>>;

  before(async () => {
    fixture = await kafkaTopicFixture();
  });
  after(async () => {
    await fixture?.close();
  });

  it("keys the record by the entry key and forwards the traceparent", async () => {
    const key = uniqueName("topic-key");
    const sent = delivery(key, {
      version: 9n,
      payload: Buffer.from("traced"),
      traceHeaders: { traceparent },
    });
    await fixture.target.apply(sent);
    const [record] = await eventually("the record", 20_000, async () => {
      const found = fixture.records.filter((r) => r.key === key);
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(record?.value, Buffer.from("traced"));
    assert.equal(record?.headers[walHeaders.entryId], sent.entry.id);
    assert.equal(record?.headers["wal-version"], "9");
    assert.equal(record?.headers.traceparent, traceparent);
  });

  it("fails with a TargetError when its topic does not exist", async (t) => {
    const topic = uniqueName("wal-conf-missing");
    const producer = await connectedProducer();
    const target = new KafkaTopicTarget(producer, topic);
    t.after(async () => {
      await outcome;
      await producer.disconnect();
    });
    const outcome = target
      .apply(delivery(uniqueName("topic-key"), { version: 1n, payload: Buffer.from("x") }))
      .then(
        () => "resolved",
        (error: unknown) => error,
      );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("still pending after 10 s"), 10_000);
    });
    const settled = await Promise.race([outcome, deadline]);
    clearTimeout(timer);
    assert.ok(isWalError(settled), `apply should reject with a TargetError, got: ${settled}`);
    assert.ok(
      settled.code === ErrorCode.targetTransient || settled.code === ErrorCode.targetPermanent,
    );
  });
});
