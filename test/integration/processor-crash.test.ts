import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import {
  allDelivered,
  assertKeyOrder,
  type KeyedStream,
  writeKeyedStream,
} from "../support/keyed-stream.ts";
import { eventually } from "../support/servers.ts";
import { webhookFixture } from "../support/webhook-fixture.ts";

/** A namespace delivering to a slow webhook, a gateway and a client; torn down after the test. */
async function streamFixture(t: TestContext, prefix: string) {
  const { namespace, receiver, client, startOne } = await webhookFixture(t, prefix);
  // A slow endpoint keeps deliveries in flight when a processor stops or dies.
  receiver.responseDelayMs = 5;
  const stream: KeyedStream = { namespace, keys: 20, writesPerKey: 30 };
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
