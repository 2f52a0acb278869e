import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import { dropNamespace } from "../support/kafka.ts";
import { eventually, uniqueName } from "../support/servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const keys = 20;
const writesPerKey = 30;
const processorEnv = { WAL_SESSION_TIMEOUT_MS: "6000" };

describe("processor killed with SIGKILL mid-stream", () => {
  const namespace = uniqueName("crash");
  let receiver: WebhookReceiver;
  let gateway: { process: WalProcess; grpc: string };
  let processors: WalProcess[] = [];
  let client: WalClient;
  let namespacesFile: { path: string; remove: () => Promise<void> };

  before(async () => {
    receiver = await WebhookReceiver.start();
    // A slow endpoint keeps deliveries in flight when the processor dies.
    receiver.responseDelayMs = 5;
    namespacesFile = await writeNamespacesFile([
      {
        name: namespace,
        partitions: 3,
        targets: { hook: { type: "webhook", url: receiver.url } },
        defaultTarget: "hook",
      },
    ]);
    gateway = await startGateway(namespacesFile.path);
    client = new WalClient(gateway.grpc);
  });

  after(async () => {
    client.close();
    await Promise.all([gateway.process.stop(), ...processors.map((p) => p.stop())]);
    await receiver.close();
    await dropNamespace(namespace);
    await namespacesFile.remove();
  });

  it("delivers every acknowledged entry after a restart, in key order", async () => {
    const first = await startProcessor(namespacesFile.path, 1, processorEnv);
    processors = [first];
    const acknowledged = new Set<string>();
    let killedAt = -1;

    const writing = Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        for (let seq = 0; seq < writesPerKey; seq += 1) {
          const outcome = await client.write({
            namespace,
            key: `key-${k}`,
            payload: `key-${k}/${seq}`,
          });
          assert.equal(outcome.durable, "TRUE", `${outcome.code} ${outcome.message}`);
          acknowledged.add(outcome.id);
        }
      }),
    );

    await eventually("the first processor to deliver part of the stream", 60_000, async () =>
      receiver.calls.length >= (keys * writesPerKey) / 5 ? true : undefined,
    );
    await first.kill();
    killedAt = receiver.firstCalls().length;
    await writing;
    assert.ok(killedAt < acknowledged.size, "the kill happened before everything was delivered");

    processors.push(await startProcessor(namespacesFile.path, 1, processorEnv));
    const delivered = await eventually(
      "every acknowledged entry at the webhook",
      120_000,
      async () => {
        const ids = new Set(receiver.calls.map((c) => c.entryId));
        return [...acknowledged].every((id) => ids.has(id)) ? ids : undefined;
      },
    );
    assert.equal(acknowledged.size, keys * writesPerKey);
    assert.equal(delivered.size, acknowledged.size, "nothing but acknowledged entries arrived");

    const firstCalls = receiver.firstCalls();
    for (let k = 0; k < keys; k += 1) {
      assert.deepEqual(
        firstCalls.filter((c) => c.key === `key-${k}`).map((c) => c.body),
        Array.from({ length: writesPerKey }, (_, seq) => `key-${k}/${seq}`),
        `order of key-${k}`,
      );
    }
  });
});
