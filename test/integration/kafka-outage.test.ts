import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import memjs from "memjs";
import { WalClient, type WriteOutcome } from "../../services/client/index.ts";
import { dropNamespace } from "../support/kafka.ts";
import { eventually, memcachedServers, uniqueName } from "../support/servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";

const run = promisify(execFile);
const kafkaScript = fileURLToPath(new URL("../../infra/kafka.sh", import.meta.url));

async function kafka(verb: "start" | "stop"): Promise<void> {
  await run("bash", [kafkaScript, verb], { timeout: 180_000 });
}

describe("Kafka stopped while the gateway serves", () => {
  const namespace = uniqueName("outage");
  const prefix = `${namespace}:`;
  let gateway: { process: WalProcess; grpc: string };
  let processor: WalProcess;
  let client: WalClient;
  let cache: memjs.Client;
  let removeFile: () => Promise<void>;

  before(async () => {
    const file = await writeNamespacesFile([
      {
        name: namespace,
        partitions: 2,
        targets: { cache: { type: "memcached", servers: memcachedServers, keyPrefix: prefix } },
        defaultTarget: "cache",
      },
    ]);
    removeFile = file.remove;
    gateway = await startGateway(file.path, { WAL_WRITE_TIMEOUT_MS: "2000" });
    processor = await startProcessor(file.path, 1, { WAL_SESSION_TIMEOUT_MS: "6000" });
    client = new WalClient(gateway.grpc, { deadlineMs: 20_000 });
    cache = memjs.Client.create(memcachedServers);
  });

  after(async () => {
    await kafka("start");
    client.close();
    cache.close();
    await Promise.all([gateway.process.stop(), processor.stop()]);
    await dropNamespace(namespace);
    await removeFile();
  });

  it("never answers durable TRUE while Kafka is down, and writes succeed again after it returns", async () => {
    const before = await client.write({ namespace, key: "k", payload: "before" });
    assert.equal(before.durable, "TRUE");

    await kafka("stop");
    const during: WriteOutcome[] = [];
    for (let i = 0; i < 4; i += 1) {
      during.push(
        await client.write({
          namespace,
          key: "k",
          payload: `during-${i}`,
          idempotencyKey: `during-${i}`,
        }),
      );
    }
    for (const outcome of during) {
      assert.notEqual(outcome.durable, "TRUE", JSON.stringify(outcome));
      assert.match(outcome.code, /^WAL_LOG_(UNAVAILABLE|OUTCOME_UNKNOWN)$/);
      assert.ok(outcome.message.includes("Retry"), "the answer says what to do");
    }

    await kafka("start");
    const afterOutage = await eventually(
      "a durable write after Kafka returned",
      120_000,
      async () => {
        const outcome = await client.write({
          namespace,
          key: "k",
          payload: "after",
          idempotencyKey: "after",
        });
        return outcome.durable === "TRUE" ? outcome : undefined;
      },
    );
    assert.equal(afterOutage.durable, "TRUE");
    await eventually("the write after the outage in memcached", 120_000, async () =>
      (await cache.get(`${prefix}k`)).value?.toString() === "after" ? true : undefined,
    );
  });
});
