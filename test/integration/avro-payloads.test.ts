import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { WalProducer } from "../../services/client/index.ts";
import { topicNames, toWireFormat } from "../../services/core/index.ts";
import { readTopic } from "../support/kafka.ts";
import {
  avro,
  type RunningRegistry,
  registryAdminToken,
  startRegistry,
} from "../support/registry.ts";
import { ResponseDroppingProxy } from "../support/response-dropping-proxy.ts";
import { eventually, uniqueName } from "../support/servers.ts";
import { webhookFixture } from "../support/webhook-fixture.ts";

interface Order {
  orderId: string;
  amountCents: number;
  note: string | null;
}

const orderV1 = {
  type: "record",
  name: "Order",
  namespace: "test.avro",
  fields: [
    { name: "orderId", type: "string" },
    { name: "amountCents", type: "long" },
  ],
};
const orderV2 = {
  ...orderV1,
  fields: [...orderV1.fields, { name: "note", type: ["null", "string"], default: null }],
};
const otherSchema = {
  type: "record",
  name: "Refund",
  namespace: "test.avro",
  fields: [{ name: "refundId", type: "string" }],
};

describe("Avro payloads: the gateway checks them against the registry, the SDK writes them", () => {
  let registry: RunningRegistry;
  let client: SchemaRegistry;
  const subject = uniqueName("orders-value");
  const otherSubject = uniqueName("refunds-value");
  let v1: number;
  let v2: number;
  let other: number;

  before(async () => {
    registry = await startRegistry("avro_payloads");
    client = new SchemaRegistry({
      host: registry.url,
      auth: { username: "ci", password: registryAdminToken },
    });
    v1 = (await client.register(avro(orderV1), { subject })).id;
    v2 = (await client.register(avro(orderV2), { subject })).id;
    other = (await client.register(avro(otherSchema), { subject: otherSubject })).id;
  });

  after(() => registry.stop());

  const fixture = (
    t: Parameters<typeof webhookFixture>[0],
    overrides: Parameters<typeof webhookFixture>[2] = {},
  ) =>
    webhookFixture(
      t,
      "avro",
      { payload: { subject }, ...overrides },
      { WAL_SCHEMA_REGISTRY_URL: registry.url },
    );

  it("accepts payloads of every version under the subject and delivers them as written", async (t) => {
    const { namespace, receiver, client: wal, startOne } = await fixture(t);
    await startOne();
    const older = await client.encode(v1, { orderId: "o-1", amountCents: 1250 });
    const newer = await client.encode(v2, {
      orderId: "o-2",
      amountCents: 990,
      note: "gift",
    });
    for (const [key, payload] of [
      ["o-1", older],
      ["o-2", newer],
    ] as const) {
      const answer = await wal.write({ namespace, key, payload });
      assert.equal(answer.durable, "TRUE", answer.message);
    }
    await eventually("both entries delivered", 30_000, async () =>
      receiver.calls.length >= 2 ? true : undefined,
    );
    const byKey = new Map(receiver.calls.map((c) => [c.key, c.bytes]));
    assert.deepEqual(byKey.get("o-1"), older);
    assert.deepEqual(
      { ...(await client.decode(byKey.get("o-2") as Buffer)) },
      {
        orderId: "o-2",
        amountCents: 990,
        note: "gift",
      },
    );
  });

  it("refuses each bad payload with its own code and reason, and writes none of them", async (t) => {
    const { namespace, client: wal, gatewayHttp } = await fixture(t);
    const good = await client.encode(v2, { orderId: "o-3", amountCents: 1, note: null });
    const refusals: Array<[string, Buffer, string, RegExp]> = [
      [
        "plain JSON",
        Buffer.from('{"orderId":"o-3"}'),
        "WAL_INVALID_PAYLOAD",
        /not in the Confluent wire format/,
      ],
      [
        "an unknown schema id",
        toWireFormat(987_654, good.subarray(5)),
        "WAL_UNKNOWN_SCHEMA",
        /schema id 987654/,
      ],
      [
        "a schema of another subject",
        await client.encode(other, { refundId: "r-1" }),
        "WAL_SCHEMA_NOT_IN_SUBJECT",
        new RegExp(`not a version of subject '${subject}'`),
      ],
      [
        "a body that does not decode",
        toWireFormat(v2, Buffer.from([0x09])),
        "WAL_INVALID_PAYLOAD",
        /does not decode with schema id/,
      ],
    ];
    for (const [what, payload, code, message] of refusals) {
      const answer = await wal.write({ namespace, key: "bad", payload });
      assert.equal(answer.durable, "FALSE", what);
      assert.equal(answer.code, code, what);
      assert.equal(answer.field, "payload", what);
      assert.match(answer.message, message, what);
    }
    const overHttp = await fetch(`${gatewayHttp}/v1/write`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ namespace, key: "bad", payloadText: '{"orderId":"o-3"}' }),
    });
    assert.equal(overHttp.status, 422);
    const answer = (await overHttp.json()) as { durable: string; code: string; field: string };
    assert.deepEqual(
      [answer.durable, answer.code, answer.field],
      ["FALSE", "WAL_INVALID_PAYLOAD", "payload"],
    );
    const accepted = await wal.write({ namespace, key: "good", payload: good });
    assert.equal(accepted.durable, "TRUE", accepted.message);
    const log = await readTopic(topicNames.log(namespace));
    assert.deepEqual(
      log.map((r) => r.key),
      ["good"],
      "only the valid payload is in the log",
    );
  });

  it("SDK: encodes with the subject's latest schema and refuses a value that does not fit it", async (t) => {
    const { namespace, receiver, startOne, gatewayAddress } = await fixture(t);
    await startOne();
    const producer = new WalProducer<Order>({
      gateway: gatewayAddress,
      registryUrl: registry.url,
      namespace,
      subject,
    });
    t.after(() => producer.close());
    const receipt = await producer.write("o-10", { orderId: "o-10", amountCents: 500, note: null });
    assert.equal(receipt.schemaId, v2);
    assert.equal(receipt.attempts, 1);
    await assert.rejects(
      producer.write("o-11", {
        orderId: "o-11",
        amountCents: "lots" as unknown as number,
        note: null,
      }),
      { code: "WAL_INVALID_ARGUMENT", field: "value.amountCents" },
    );
    await eventually("the entry delivered", 30_000, async () =>
      receiver.calls.length >= 1 ? true : undefined,
    );
    const [call] = receiver.calls;
    assert.equal(call?.entryId, receipt.id);
    assert.deepEqual(
      { ...(await client.decode(call?.bytes as Buffer)) },
      {
        orderId: "o-10",
        amountCents: 500,
        note: null,
      },
    );
  });

  it("SDK: an answer lost on the way back is retried with the same key, and the target applies it once", async (t) => {
    // Short tiers: the first copy fails and waits in a tier while its duplicate waits behind it.
    const { namespace, receiver, startOne, gatewayAddress } = await fixture(t, {
      retry: { tiers: ["200ms", "500ms"] },
    });
    const proxy = await ResponseDroppingProxy.start(gatewayAddress);
    t.after(() => proxy.close());
    const producer = new WalProducer<Order>({
      gateway: proxy.address,
      registryUrl: registry.url,
      namespace,
      subject,
      initialBackoffMs: 50,
    });
    t.after(() => producer.close());

    proxy.drops = 1;
    const receipt = await producer.write("o-20", { orderId: "o-20", amountCents: 70, note: null });
    assert.equal(proxy.dropped, 1, "the first answer was cut");
    assert.equal(receipt.attempts, 2);
    const after = await producer.write("o-20", { orderId: "o-20", amountCents: 71, note: null });

    // Both tries of the first write reached the log, under one entry id.
    const log = await readTopic(topicNames.log(namespace));
    const ids = log.map((r) => r.headers["wal-entry-id"]);
    assert.deepEqual(ids, [receipt.id, receipt.id, after.id]);

    receiver.failNext(3, 503);
    await startOne();
    await eventually("two deliveries", 30_000, async () =>
      receiver.calls.length >= 2 ? true : undefined,
    );
    assert.deepEqual(
      receiver.calls.map((c) => c.entryId),
      [receipt.id, after.id],
      "the twice-written entry is delivered once, before the next write of its key",
    );
    assert.equal(
      receiver.calls[0]?.attempt,
      4,
      "delivered at its 4th try, after waiting in a tier",
    );
  });
});
