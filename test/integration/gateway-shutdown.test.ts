import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WalClient, type WriteOutcome } from "../../services/client/index.ts";
import { decodeEntry, topicNames } from "../../services/core/index.ts";
import { deleteTopicsAndGroups, dropNamespace, testKafka } from "../support/kafka.ts";
import { eventually, memcachedServers, uniqueName } from "../support/servers.ts";
import { startGateway, type WalProcess, writeNamespacesFile } from "../support/wal-process.ts";

describe("gateway stopped with SIGTERM while writes flow", () => {
  const namespace = uniqueName("drain");
  let gateway: { process: WalProcess; grpc: string };
  let client: WalClient;
  let removeFile: () => Promise<void>;

  before(async () => {
    const file = await writeNamespacesFile([
      {
        name: namespace,
        partitions: 2,
        targets: { cache: { type: "memcached", servers: memcachedServers } },
        defaultTarget: "cache",
      },
    ]);
    removeFile = file.remove;
    gateway = await startGateway(file.path);
    client = new WalClient(gateway.grpc);
  });

  after(async () => {
    client.close();
    await dropNamespace(namespace);
    await removeFile();
  });

  it("answers every write in flight, exits 0, and every TRUE is in the log", async () => {
    const outcomes: WriteOutcome[] = [];
    // Each writer goes on until the gateway is gone and a call fails outright.
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; ; i += 1) {
        try {
          outcomes.push(await client.write({ namespace, key: `w${w}`, payload: `${w}/${i}` }));
        } catch {
          return;
        }
      }
    });
    await eventually("some writes durable", 30_000, async () =>
      outcomes.length >= 50 ? true : undefined,
    );
    const exitCode = await gateway.process.stop();
    await Promise.all(writers);
    assert.equal(exitCode, 0, "graceful shutdown exits 0");

    const durable = outcomes.filter((o) => o.durable === "TRUE");
    for (const o of outcomes.filter((x) => x.durable !== "TRUE")) {
      assert.equal(o.code, "WAL_SHUTTING_DOWN", JSON.stringify(o));
    }
    const logged = new Set<string>();
    const groupId = uniqueName("drain-reader");
    const consumer = testKafka().consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic: topicNames.log(namespace), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value !== null) logged.add(decodeEntry(message.value).id);
      },
    });
    try {
      await eventually("every durable write read back", 30_000, async () =>
        durable.every((o) => logged.has(o.id)) ? true : undefined,
      );
    } finally {
      await consumer.disconnect();
      await deleteTopicsAndGroups([], [groupId]);
    }
  });
});
