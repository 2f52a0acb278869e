import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import memjs from "memjs";
import { WalClient } from "../../services/client/index.ts";
import { dropNamespace } from "../support/kafka.ts";
import { assertKeyOrder, streamPayload, writeKeyedStream } from "../support/keyed-stream.ts";
import { eventually, memcachedServers, uniqueName } from "../support/servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const keys = 30;
const writesPerKey = 12;

describe("write path: WriteToLog to targets in key order", () => {
  const namespace = uniqueName("wp");
  const prefix = `${namespace}:`;
  let receiver: WebhookReceiver;
  let gateway: { process: WalProcess; grpc: string; http: string };
  let processor: WalProcess;
  let client: WalClient;
  let cache: memjs.Client;
  let removeFile: () => Promise<void>;

  before(async () => {
    receiver = await WebhookReceiver.start();
    const file = await writeNamespacesFile([
      {
        name: namespace,
        partitions: 4,
        targets: {
          cache: { type: "memcached", servers: memcachedServers, keyPrefix: prefix },
          hook: { type: "webhook", url: receiver.url },
        },
        defaultTarget: "cache",
      },
    ]);
    removeFile = file.remove;
    gateway = await startGateway(file.path);
    processor = await startProcessor(file.path, 1);
    client = new WalClient(gateway.grpc);
    cache = memjs.Client.create(memcachedServers);
  });

  after(async () => {
    client.close();
    cache.close();
    await Promise.all([gateway.process.stop(), processor.stop()]);
    await receiver.close();
    await dropNamespace(namespace);
    await removeFile();
  });

  it("leaves the last value of every key in memcached", async () => {
    await writeKeyedStream(client, { namespace, keys, writesPerKey, target: "cache" });
    await eventually("every key to hold its last value", 60_000, async () => {
      for (let k = 0; k < keys; k += 1) {
        const { value } = await cache.get(`${prefix}key-${k}`);
        if (value?.toString() !== streamPayload(k, writesPerKey - 1)) return undefined;
      }
      return true;
    });
  });

  it("delivers each key's entries to a webhook in write order", async () => {
    const stream = { namespace, keys, writesPerKey, target: "hook" };
    await writeKeyedStream(client, stream);
    const calls = await eventually("every entry at the webhook", 60_000, async () => {
      const first = receiver.firstCalls();
      return first.length >= keys * writesPerKey ? first : undefined;
    });
    assert.equal(calls.length, keys * writesPerKey);
    assertKeyOrder(receiver, stream);
  });

  it("applies DELETE to the cache and keeps the entry id across the HTTP mirror", async () => {
    const key = "http-key";
    const put = await fetch(`${gateway.http}/v1/write`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ namespace, key, payloadText: "from-http" }),
    });
    assert.equal(put.status, 200);
    await eventually("the HTTP write in memcached", 30_000, async () =>
      (await cache.get(`${prefix}${key}`)).value?.toString() === "from-http" ? true : undefined,
    );
    const del = await client.write({
      namespace,
      key,
      payload: "",
      target: { operation: "DELETE" },
    });
    assert.equal(del.durable, "TRUE");
    await eventually("the key deleted from memcached", 30_000, async () =>
      (await cache.get(`${prefix}${key}`)).value === null ? true : undefined,
    );
  });

  it("carries the caller's trace context from WriteToLog to the target", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const outcome = await client.write(
      { namespace, key: "traced", payload: "t", target: { name: "hook" } },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    assert.equal(outcome.durable, "TRUE");
    const call = await eventually("the traced entry at the webhook", 30_000, async () =>
      receiver.calls.find((c) => c.entryId === outcome.id),
    );
    assert.match(call.traceparent ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.notEqual(
      call.traceparent,
      `00-${traceId}-00f067aa0ba902b7-01`,
      "the delivery has its own span",
    );
  });
});
