import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import { topicNames } from "../../services/core/index.ts";
import { dropNamespace, testKafka } from "../support/kafka.ts";
import { eventually, memcachedServers, uniqueName } from "../support/servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";

describe("a shard serves only its own namespaces", () => {
  const mine = uniqueName("shard-a");
  const theirs = uniqueName("shard-b");
  let gateway: { process: WalProcess; grpc: string; http: string };
  let processor: WalProcess;
  let client: WalClient;
  let removeFile: () => Promise<void>;

  before(async () => {
    const namespace = (name: string, shard: string) => ({
      name,
      shard,
      partitions: 1,
      targets: { cache: { type: "memcached" as const, servers: memcachedServers } },
      defaultTarget: "cache",
    });
    const file = await writeNamespacesFile([namespace(mine, "alpha"), namespace(theirs, "beta")]);
    removeFile = file.remove;
    gateway = await startGateway(file.path, { WAL_SHARD: "alpha" });
    processor = await startProcessor(file.path, 1, { WAL_SHARD: "alpha" });
    client = new WalClient(gateway.grpc);
  });

  after(async () => {
    client.close();
    await Promise.all([gateway.process.stop(), processor.stop()]);
    await Promise.all([dropNamespace(mine), dropNamespace(theirs)]);
    await removeFile();
  });

  it("takes writes for its own namespace", async () => {
    const outcome = await client.write({ namespace: mine, key: "k", payload: "x" });
    assert.equal(outcome.durable, "TRUE", outcome.message);
  });

  it("refuses another shard's namespace over gRPC and HTTP, saying which shard serves it", async () => {
    const outcome = await client.write({ namespace: theirs, key: "k", payload: "x" });
    assert.equal(outcome.durable, "FALSE");
    assert.equal(outcome.code, "WAL_WRONG_SHARD");
    assert.equal(outcome.field, "namespace");
    assert.match(outcome.message, /shard 'beta'/);

    const response = await fetch(`${gateway.http}/v1/write`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ namespace: theirs, key: "k", payloadText: "x" }),
    });
    assert.equal(response.status, 421);
    assert.equal(((await response.json()) as { code: string }).code, "WAL_WRONG_SHARD");
  });

  it("consumes only its own namespace's log", async () => {
    const admin = testKafka().admin();
    await admin.connect();
    const members = async (name: string) =>
      (await admin.describeGroups([topicNames.processorGroup(name)])).groups[0]?.members.length;
    try {
      await eventually("the processor in its own namespace's group", 30_000, async () =>
        (await members(mine)) === 1 ? true : undefined,
      );
      assert.equal(await members(theirs), 0, "nobody consumes the other shard");
    } finally {
      await admin.disconnect();
    }
  });
});
