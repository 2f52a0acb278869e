import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ControlPlaneClient } from "../../services/control-plane/index.ts";
import { type NamespaceConfigInput, topicNames } from "../../services/core/index.ts";
import { dropNamespace, testKafka } from "../support/kafka.ts";
import { createSchema } from "../support/postgres.ts";
import { memcachedServers, uniqueName } from "../support/servers.ts";
import { runWal, WalProcess, writeNamespacesFile } from "../support/wal-process.ts";

const adminToken = "topology-test-admin-token-0123456789";

describe("wal topology plan and apply", () => {
  const names = [uniqueName("topo"), uniqueName("topo")];
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let controlPlane: WalProcess;
  let admin: ControlPlaneClient;
  let env: Record<string, string>;
  const files: Array<() => Promise<void>> = [];

  const declare = async (partitions: number) => {
    const namespaces: NamespaceConfigInput[] = names.map((name) => ({
      name,
      partitions,
      targets: { cache: { type: "memcached", servers: memcachedServers } },
      defaultTarget: "cache",
    }));
    const file = await writeNamespacesFile(namespaces);
    files.push(file.remove);
    return file.path;
  };

  const topology = (verb: "plan" | "apply", file: string, ...flags: string[]) =>
    runWal(["topology", verb, "--control-plane", "--namespaces", file, ...flags], env);

  const partitionsOf = async (name: string) => {
    const kafkaAdmin = testKafka().admin();
    await kafkaAdmin.connect();
    try {
      if (!(await kafkaAdmin.listTopics()).includes(topicNames.log(name))) return undefined;
      const { topics } = await kafkaAdmin.fetchTopicMetadata({ topics: [topicNames.log(name)] });
      return topics[0]?.partitions.length;
    } finally {
      await kafkaAdmin.disconnect();
    }
  };

  before(async () => {
    schema = await createSchema("topology");
    controlPlane = WalProcess.start(["control-plane", "--port", "0"], {
      WAL_DATABASE_URL: schema.url,
      WAL_ADMIN_TOKEN: adminToken,
    });
    const serving = await controlPlane.waitForLine((l) => l.msg === "control plane serving");
    const url = `http://${serving.http as string}`;
    env = { WAL_CONTROL_PLANE_URL: url, WAL_ADMIN_TOKEN: adminToken, WAL_ACTOR: "topology-test" };
    admin = new ControlPlaneClient({ url, adminToken, actor: "topology-test" });
  });

  after(async () => {
    await controlPlane.stop();
    await Promise.all(names.map(dropNamespace));
    await Promise.all(files.map((remove) => remove()));
    await schema.drop();
  });

  it("plans, applies, and changes nothing the second time", async () => {
    const file = await declare(2);
    const plan = await topology("plan", file);
    assert.equal(plan.code, 0, plan.stderr);
    for (const name of names) {
      assert.match(plan.stdout, new RegExp(`would create topic ${topicNames.log(name)} with 2`));
      assert.match(plan.stdout, new RegExp(`would create namespace '${name}'`));
    }
    assert.equal(await partitionsOf(names[0] as string), undefined, "plan changed nothing");

    const first = await topology("apply", file);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((first.stdout.match(/^done: /gm) ?? []).length, 4);
    for (const name of names) {
      assert.equal(await partitionsOf(name), 2);
      assert.equal((await admin.get(name)).version, 1);
    }

    const second = await topology("apply", file);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /nothing to change/);
    for (const name of names) assert.equal((await admin.get(name)).version, 1);
  });

  it("grows partitions and updates rows when the declaration changes", async () => {
    const file = await declare(4);
    const refused = await topology("plan", file);
    assert.match(refused.stdout, /--allow-repartition/);
    assert.doesNotMatch(refused.stdout, /would add partitions/);
    const applied = await topology("apply", file, "--allow-repartition");
    assert.equal(applied.code, 0, applied.stderr);
    for (const name of names) {
      assert.equal(await partitionsOf(name), 4);
      const record = await admin.get(name);
      assert.equal(record.version, 2);
      assert.equal(record.config.partitions, 4);
    }
  });
});
