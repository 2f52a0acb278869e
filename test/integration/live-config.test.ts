import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import { ControlPlaneClient } from "../../services/control-plane/index.ts";
import { topicNames, walHeaders } from "../../services/core/index.ts";
import { dropNamespace, readTopic } from "../support/kafka.ts";
import { allDelivered, assertKeyOrder, writeKeyedStream } from "../support/keyed-stream.ts";
import { webhookNamespace } from "../support/namespaces.ts";
import { createSchema } from "../support/postgres.ts";
import { eventually, uniqueName } from "../support/servers.ts";
import { startGateway, startProcessor, WalProcess } from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const hookNamespace = (name: string, url: string) => webhookNamespace(name, url, 2);
const adminToken = "live-config-admin-token-0123456789";

describe("namespace changes reach running gateways and processors without a restart", () => {
  const first = uniqueName("live");
  const second = uniqueName("live");
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let controlPlane: WalProcess;
  let admin: ControlPlaneClient;
  let gateway: { process: WalProcess; grpc: string };
  let processor: WalProcess;
  let client: WalClient;
  let before1: WebhookReceiver;
  let after1: WebhookReceiver;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    schema = await createSchema("live_config");
    before1 = await WebhookReceiver.start();
    after1 = await WebhookReceiver.start();
    const env = { WAL_DATABASE_URL: schema.url, WAL_ADMIN_TOKEN: adminToken };
    controlPlane = WalProcess.start(["control-plane", "--port", "0"], env);
    const serving = await controlPlane.waitForLine((l) => l.msg === "control plane serving");
    admin = new ControlPlaneClient({
      url: `http://${serving.http as string}`,
      adminToken,
      actor: "live-config-test",
    });
    await admin.create(hookNamespace(first, before1.url));

    const sourceEnv = {
      ...env,
      WAL_NAMESPACE_SOURCE: "control-plane",
      WAL_SESSION_TIMEOUT_MS: "6000",
    };
    gateway = await startGateway("unused.json", sourceEnv);
    processor = await startProcessor("unused.json", 1, sourceEnv);
    client = new WalClient(gateway.grpc);
  });

  after(async () => {
    client.close();
    await Promise.all([gateway.process.stop(), processor.stop(), controlPlane.stop()]);
    await Promise.all([before1.close(), after1.close()]);
    await Promise.all([dropNamespace(first), dropNamespace(second), ...cleanups.map((c) => c())]);
    await schema.drop();
  });

  it("a changed target takes effect for the next entries", async () => {
    const early = await client.write({ namespace: first, key: "k", payload: "early" });
    assert.equal(early.durable, "TRUE", early.message);
    await eventually("the early entry at the first webhook", 30_000, async () =>
      before1.calls.some((c) => c.entryId === early.id) ? true : undefined,
    );

    const current = await admin.get(first);
    await admin.update(first, hookNamespace(first, after1.url), current.version);
    await processor.waitForLine(
      (l) =>
        l.msg === "namespace config applied" &&
        l.name === first &&
        l.version === current.version + 1,
    );
    const late = await client.write({ namespace: first, key: "k", payload: "late" });
    assert.equal(late.durable, "TRUE", late.message);
    await eventually("the late entry at the second webhook", 30_000, async () =>
      after1.calls.some((c) => c.entryId === late.id) ? true : undefined,
    );
    assert.ok(!before1.calls.some((c) => c.entryId === late.id), "the old target got nothing new");
  });

  it("a lowered retry.maxAttempts applies to an entry already retrying, without a restart", async () => {
    const retrying = uniqueName("live");
    cleanups.push(() => dropNamespace(retrying));
    const receiver = await WebhookReceiver.start();
    cleanups.push(() => receiver.close());
    receiver.refuse = (call) => (call.body === "poison" ? 503 : undefined);
    const config = (maxAttempts: number) => ({
      ...hookNamespace(retrying, receiver.url),
      retry: { tiers: ["200ms"], jitter: false, inPlaceAttempts: 1, maxAttempts },
    });
    await admin.create(config(1_000));
    const poison = await eventually("the new namespace to take writes", 30_000, async () => {
      const outcome = await client.write({ namespace: retrying, key: "k", payload: "poison" });
      return outcome.durable === "TRUE" ? outcome : undefined;
    });
    await eventually("the entry retried from its tier", 30_000, async () =>
      receiver.refused.filter((c) => c.entryId === poison.id).length >= 3 ? true : undefined,
    );

    const current = await admin.get(retrying);
    await admin.update(retrying, config(2), current.version);
    const dead = await eventually("the entry in the DLQ", 30_000, async () => {
      const records = await readTopic(topicNames.deadLetter(retrying));
      return records.length > 0 ? records : undefined;
    });
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.headers[walHeaders.entryId], poison.id);
    assert.equal(dead[0]?.headers[walHeaders.deadReason], "WAL_RETRIES_EXHAUSTED");
    const attempts = Number(dead[0]?.headers[walHeaders.attempt]);
    assert.equal(
      attempts,
      receiver.refused.filter((c) => c.entryId === poison.id).length,
      "dead-lettered at its next failure, with every attempt counted",
    );
  });

  it("a namespace created while running takes writes and is delivered", async () => {
    const refused = await client.write({ namespace: second, key: "k", payload: "x" });
    assert.equal(refused.code, "WAL_NAMESPACE_NOT_FOUND");
    await admin.create(hookNamespace(second, after1.url));
    const written = await eventually("the new namespace to take writes", 30_000, async () => {
      const outcome = await client.write({ namespace: second, key: "k", payload: "new" });
      return outcome.durable === "TRUE" ? outcome : undefined;
    });
    await eventually("the new namespace's entry delivered", 60_000, async () =>
      after1.calls.some((c) => c.entryId === written.id) ? true : undefined,
    );
  });

  it("pausing stops delivery without losing anything; resuming delivers the rest in key order", async () => {
    const paused = uniqueName("live");
    cleanups.push(() => dropNamespace(paused));
    const receiver = await WebhookReceiver.start();
    cleanups.push(() => receiver.close());
    await admin.create(hookNamespace(paused, receiver.url));
    await eventually("the new namespace to take writes", 30_000, async () => {
      const outcome = await client.write({ namespace: paused, key: "warm-up", payload: "w" });
      return outcome.durable === "TRUE" ? true : undefined;
    });

    const stream = { namespace: paused, keys: 5, writesPerKey: 20 };
    const writing = writeKeyedStream(client, stream);
    await eventually("part of the stream delivered", 30_000, async () =>
      receiver.calls.length >= 20 ? true : undefined,
    );
    const before = await admin.get(paused);
    await admin.update(
      paused,
      { ...hookNamespace(paused, receiver.url), paused: true },
      before.version,
    );
    await processor.waitForLine(
      (l) => l.msg === "processor stopped consuming" && l.namespace === paused,
    );
    const acknowledged = await writing;

    const whilePaused = await client.write({ namespace: paused, key: "during", payload: "p" });
    assert.equal(whilePaused.durable, "TRUE", "a paused namespace still takes writes");
    const deliveredWhilePaused = new Set(receiver.calls.map((c) => c.entryId));
    assert.ok(!deliveredWhilePaused.has(whilePaused.id), "nothing is delivered while paused");

    await admin.update(paused, hookNamespace(paused, receiver.url), before.version + 1);
    acknowledged.add(whilePaused.id);
    await eventually("every acknowledged entry after resuming", 60_000, async () =>
      allDelivered(receiver, acknowledged),
    );
    assertKeyOrder(receiver, stream);
  });

  it("a deleted namespace stops taking writes", async () => {
    const current = await admin.get(second);
    await admin.delete(second, current.version);
    await eventually("writes to the deleted namespace refused", 30_000, async () => {
      const outcome = await client.write({ namespace: second, key: "k", payload: "gone" });
      return outcome.code === "WAL_NAMESPACE_NOT_FOUND" ? true : undefined;
    });
  });
});
