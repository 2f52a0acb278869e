import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import { dropNamespace } from "../support/kafka.ts";
import {
  allDelivered,
  assertKeyOrder,
  type KeyedStream,
  writeKeyedStream,
} from "../support/keyed-stream.ts";
import { eventually, uniqueName } from "../support/servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const processorEnv = { WAL_SESSION_TIMEOUT_MS: "6000" };

/** A namespace delivering to a slow webhook, a gateway and a client; torn down after the test. */
async function streamFixture(t: TestContext, prefix: string) {
  const namespace = uniqueName(prefix);
  const receiver = await WebhookReceiver.start();
  // A slow endpoint keeps deliveries in flight when a processor stops or dies.
  receiver.responseDelayMs = 5;
  const file = await writeNamespacesFile([
    {
      name: namespace,
      partitions: 3,
      targets: { hook: { type: "webhook", url: receiver.url } },
      defaultTarget: "hook",
    },
  ]);
  const gateway = await startGateway(file.path);
  const client = new WalClient(gateway.grpc);
  const processors: WalProcess[] = [];
  t.after(async () => {
    client.close();
    await Promise.all([gateway.process.stop(), ...processors.map((p) => p.stop())]);
    await receiver.close();
    await dropNamespace(namespace);
    await file.remove();
  });
  const stream: KeyedStream = { namespace, keys: 20, writesPerKey: 30 };
  const startOne = async () => {
    const processor = await startProcessor(file.path, 1, processorEnv);
    processors.push(processor);
    return processor;
  };
  const deliveredPart = () =>
    eventually("part of the stream delivered", 60_000, async () =>
      receiver.calls.length >= (stream.keys * stream.writesPerKey) / 5 ? true : undefined,
    );
  return { receiver, client, stream, startOne, deliveredPart };
}

describe("processors stopping mid-stream lose nothing and keep key order", () => {
  it("SIGKILL, then a new processor: every acknowledged entry arrives", async (t) => {
    const { receiver, client, stream, startOne, deliveredPart } = await streamFixture(t, "crash");
    const first = await startOne();
    const writing = writeKeyedStream(client, stream);
    await deliveredPart();
    await first.kill();
    const deliveredBeforeKill = receiver.firstCalls().length;
    const acknowledged = await writing;
    assert.ok(deliveredBeforeKill < acknowledged.size, "the kill came before the end");

    await startOne();
    const delivered = await eventually("every acknowledged entry", 120_000, async () =>
      allDelivered(receiver, acknowledged),
    );
    assert.equal(acknowledged.size, stream.keys * stream.writesPerKey);
    assert.equal(delivered.size, acknowledged.size, "nothing but acknowledged entries arrived");
    assertKeyOrder(receiver, stream);
  });

  it("a second processor joins, then the first stops gracefully: nothing lost", async (t) => {
    const { receiver, client, stream, startOne, deliveredPart } = await streamFixture(t, "rebal");
    const first = await startOne();
    const writing = writeKeyedStream(client, stream);
    await deliveredPart();
    await startOne();
    assert.equal(await first.stop(), 0, "graceful stop exits 0");
    const acknowledged = await writing;
    const delivered = await eventually("every acknowledged entry", 120_000, async () =>
      allDelivered(receiver, acknowledged),
    );
    assert.equal(delivered.size, acknowledged.size);
    assertKeyOrder(receiver, stream);
  });
});
