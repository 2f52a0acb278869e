import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import memjs from "memjs";
import { WalClient, type WriteInput } from "../../services/client/index.ts";
import { topicNames } from "../../services/core/index.ts";
import { dropNamespace, testKafka } from "../support/kafka.ts";
import { eventually, memcachedServers, uniqueName } from "../support/servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";

const maxPayloadBytes = 1000;

describe("bad input gets a clear error and changes nothing accepted", () => {
  const namespace = uniqueName("bad");
  const prefix = `${namespace}:`;
  let gateway: { process: WalProcess; grpc: string; http: string };
  let processor: WalProcess;
  let client: WalClient;
  let cache: memjs.Client;
  let removeFile: () => Promise<void>;
  const acceptedIds: string[] = [];

  before(async () => {
    const file = await writeNamespacesFile([
      {
        name: namespace,
        partitions: 2,
        limits: { maxPayloadBytes },
        targets: { cache: { type: "memcached", servers: memcachedServers, keyPrefix: prefix } },
        defaultTarget: "cache",
      },
    ]);
    removeFile = file.remove;
    gateway = await startGateway(file.path);
    processor = await startProcessor(file.path, 1);
    client = new WalClient(gateway.grpc);
    cache = memjs.Client.create(memcachedServers);
    for (const key of ["a", "b", "c"]) {
      const outcome = await client.write({ namespace, key, payload: `accepted-${key}` });
      assert.equal(outcome.durable, "TRUE");
      acceptedIds.push(outcome.id);
    }
  });

  after(async () => {
    client.close();
    cache.close();
    await Promise.all([gateway.process.stop(), processor.stop()]);
    await dropNamespace(namespace);
    await removeFile();
  });

  const grpcCases: Array<{ name: string; input: () => WriteInput; code: string; field: string }> = [
    {
      name: "unknown namespace",
      input: () => ({ namespace: "no-such-ns", key: "a", payload: "x" }),
      code: "WAL_NAMESPACE_NOT_FOUND",
      field: "namespace",
    },
    {
      name: "empty namespace",
      input: () => ({ namespace: "", key: "a", payload: "x" }),
      code: "WAL_INVALID_ARGUMENT",
      field: "namespace",
    },
    {
      name: "missing key",
      input: () => ({ namespace, key: "", payload: "x" }),
      code: "WAL_INVALID_ARGUMENT",
      field: "key",
    },
    {
      name: "payload over the limit",
      input: () => ({ namespace, key: "a", payload: Buffer.alloc(maxPayloadBytes + 1) }),
      code: "WAL_PAYLOAD_TOO_LARGE",
      field: "payload",
    },
    {
      name: "target not allowed",
      input: () => ({ namespace, key: "a", payload: "x", target: { name: "elsewhere" } }),
      code: "WAL_TARGET_NOT_ALLOWED",
      field: "target.name",
    },
    {
      name: "negative ttl",
      input: () => ({ namespace, key: "a", payload: "x", lifecycle: { ttlMs: -1 } }),
      code: "WAL_INVALID_ARGUMENT",
      field: "lifecycle.ttl_ms",
    },
    {
      name: "a delay longer than the topics keep",
      input: () => ({
        namespace,
        key: "a",
        payload: "x",
        lifecycle: { delayMs: 8 * 86_400_000 },
      }),
      code: "WAL_INVALID_ARGUMENT",
      field: "lifecycle.delay_ms",
    },
    {
      name: "idempotency key too long",
      input: () => ({ namespace, key: "a", payload: "x", idempotencyKey: "k".repeat(300) }),
      code: "WAL_INVALID_ARGUMENT",
      field: "idempotency_key",
    },
  ];

  for (const c of grpcCases) {
    it(`gRPC: ${c.name} → ${c.code} naming ${c.field}`, async () => {
      const outcome = await client.write(c.input());
      assert.equal(outcome.durable, "FALSE");
      assert.equal(outcome.code, c.code);
      assert.equal(outcome.field, c.field);
      assert.ok(outcome.message.length > 10, "the message explains");
    });
  }

  const httpCases: Array<{
    name: string;
    body: string;
    contentType?: string;
    status: number;
    code: string;
    field: string;
  }> = [
    {
      name: "malformed JSON",
      body: '{"namespace":',
      status: 400,
      code: "WAL_INVALID_ARGUMENT",
      field: "body",
    },
    {
      name: "wrong type",
      body: JSON.stringify({ namespace, key: 5 }),
      status: 400,
      code: "WAL_INVALID_ARGUMENT",
      field: "key",
    },
    {
      name: "unknown field",
      body: JSON.stringify({ namespace, key: "a", colour: "red" }),
      status: 400,
      code: "WAL_INVALID_ARGUMENT",
      field: "colour",
    },
    {
      name: "payload not base64",
      body: JSON.stringify({ namespace, key: "a", payload: "%%%" }),
      status: 400,
      code: "WAL_INVALID_ARGUMENT",
      field: "payload",
    },
    {
      name: "unknown operation",
      body: JSON.stringify({ namespace, key: "a", target: { operation: "MERGE" } }),
      status: 400,
      code: "WAL_INVALID_ARGUMENT",
      field: "target.operation",
    },
    {
      name: "negative delay",
      body: JSON.stringify({ namespace, key: "a", lifecycle: { delayMs: -5 } }),
      status: 400,
      code: "WAL_INVALID_ARGUMENT",
      field: "lifecycle.delayMs",
    },
    {
      name: "unknown namespace",
      body: JSON.stringify({ namespace: "no-such-ns", key: "a" }),
      status: 404,
      code: "WAL_NAMESPACE_NOT_FOUND",
      field: "namespace",
    },
    {
      name: "payload over the limit",
      body: JSON.stringify({ namespace, key: "a", payloadText: "x".repeat(maxPayloadBytes + 1) }),
      status: 413,
      code: "WAL_PAYLOAD_TOO_LARGE",
      field: "payload",
    },
    {
      name: "target not allowed",
      body: JSON.stringify({ namespace, key: "a", target: { name: "elsewhere" } }),
      status: 403,
      code: "WAL_TARGET_NOT_ALLOWED",
      field: "target.name",
    },
    {
      name: "not JSON",
      body: "namespace=x",
      contentType: "text/plain",
      status: 415,
      code: "WAL_INVALID_ARGUMENT",
      field: "body",
    },
  ];

  for (const c of httpCases) {
    it(`HTTP: ${c.name} → ${c.status} ${c.code} naming ${c.field}`, async () => {
      const response = await fetch(`${gateway.http}/v1/write`, {
        method: "POST",
        headers: { "content-type": c.contentType ?? "application/json" },
        body: c.body,
      });
      assert.equal(response.status, c.status);
      const result = (await response.json()) as {
        durable: string;
        code: string;
        field: string;
        message: string;
      };
      assert.equal(result.durable, "FALSE");
      assert.equal(result.code, c.code);
      assert.equal(result.field, c.field);
      assert.ok(result.message.length > 10, "the message explains");
    });
  }

  it("kept exactly the accepted entries in the log and the target", async () => {
    const admin = testKafka().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topicNames.log(namespace));
    await admin.disconnect();
    const records = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    assert.equal(records, acceptedIds.length);
    await eventually("the accepted values in memcached", 30_000, async () => {
      for (const key of ["a", "b", "c"]) {
        if ((await cache.get(`${prefix}${key}`)).value?.toString() !== `accepted-${key}`)
          return undefined;
      }
      return true;
    });
  });
});
