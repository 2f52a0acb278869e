import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Admin } from "kafkajs";
import { ControlPlaneClient } from "../../services/control-plane/index.ts";
import {
  type NamespaceConfigInput,
  namespaceTopics,
  topicNames,
} from "../../services/core/index.ts";
import { dropNamespace, testKafka } from "../support/kafka.ts";
import { createSchema } from "../support/postgres.ts";
import { memcachedServers, uniqueName } from "../support/servers.ts";
import { runWal, WalProcess, writeNamespacesFile } from "../support/wal-process.ts";

const adminToken = "topology-test-admin-token-0123456789";

/** Escapes a topic name for a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("wal topology plan and apply", () => {
  const names = [uniqueName("topo"), uniqueName("topo")];
  /** A namespace made before it had retry tiers, a DLQ and holds. */
  const older = uniqueName("topo");
  const defaultTiers = 4;
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let controlPlane: WalProcess;
  let admin: ControlPlaneClient;
  let env: Record<string, string>;
  const files: Array<() => Promise<void>> = [];

  const writeFile = async (namespaces: NamespaceConfigInput[]) => {
    const file = await writeNamespacesFile(namespaces);
    files.push(file.remove);
    return file.path;
  };

  const namespace = (name: string, partitions: number, tiers?: string[]): NamespaceConfigInput => ({
    name,
    partitions,
    targets: { cache: { type: "memcached", servers: memcachedServers } },
    defaultTarget: "cache",
    ...(tiers === undefined ? {} : { retry: { tiers } }),
  });

  const declare = (partitions: number) =>
    writeFile(names.map((name) => namespace(name, partitions)));

  const topology = (verb: "plan" | "apply", file: string, ...flags: string[]) =>
    runWal(["topology", verb, "--control-plane", "--namespaces", file, ...flags], env);

  const withAdmin = async <T>(use: (kafkaAdmin: Admin) => Promise<T>): Promise<T> => {
    const kafkaAdmin = testKafka().admin();
    await kafkaAdmin.connect();
    try {
      return await use(kafkaAdmin);
    } finally {
      await kafkaAdmin.disconnect();
    }
  };

  /** Partitions of each existing topic of a namespace, by name, sorted. */
  const topicsOf = (name: string) =>
    withAdmin(async (kafkaAdmin) => {
      const existing = (await kafkaAdmin.listTopics()).filter((t) => t.startsWith(`wal.${name}.`));
      if (existing.length === 0) return {};
      const { topics } = await kafkaAdmin.fetchTopicMetadata({ topics: existing.sort() });
      return Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
    });

  /** Every topic of the namespace with `tierCount` tiers, each with `partitions`. */
  const expected = (name: string, tierCount: number, partitions: number, extra: string[] = []) =>
    Object.fromEntries(
      [...namespaceTopics(name, tierCount).map((t) => t.topic), ...extra]
        .sort()
        .map((t) => [t, partitions]),
    );

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
    await Promise.all([...names, older].map(dropNamespace));
    await Promise.all(files.map((remove) => remove()));
    await schema.drop();
  });

  it("plans, applies every topic of each namespace alike, and changes nothing the second time", async () => {
    const file = await declare(2);
    const plan = await topology("plan", file);
    assert.equal(plan.code, 0, plan.stderr);
    for (const name of names) {
      for (const { topic, role } of namespaceTopics(name, defaultTiers)) {
        assert.match(
          plan.stdout,
          new RegExp(`^would create topic ${literal(topic)} \\(${role}\\) with 2 partitions$`, "m"),
        );
      }
      assert.match(plan.stdout, new RegExp(`would create namespace '${name}'`));
    }
    assert.deepEqual(await topicsOf(names[0] as string), {}, "plan changed nothing");

    const first = await topology("apply", file);
    assert.equal(first.code, 0, first.stderr);
    const topicCount = namespaceTopics("x", defaultTiers).length;
    assert.equal((first.stdout.match(/^done: /gm) ?? []).length, names.length * (topicCount + 1));
    for (const name of names) {
      assert.deepEqual(await topicsOf(name), expected(name, defaultTiers, 2));
      assert.equal((await admin.get(name)).version, 1);
    }

    const second = await topology("apply", file);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, "nothing to change: the cluster matches the topology\n");
    for (const name of names) {
      assert.deepEqual(await topicsOf(name), expected(name, defaultTiers, 2));
      assert.equal((await admin.get(name)).version, 1);
    }
  });

  it("grows every topic of a namespace together and updates rows when the declaration changes", async () => {
    const file = await declare(4);
    const refused = await topology("plan", file);
    assert.match(refused.stdout, /--allow-repartition/);
    assert.doesNotMatch(refused.stdout, /would add partitions/);
    const applied = await topology("apply", file, "--allow-repartition");
    assert.equal(applied.code, 0, applied.stderr);
    for (const name of names) {
      for (const { topic } of namespaceTopics(name, defaultTiers)) {
        assert.match(
          applied.stdout,
          new RegExp(`^done: add partitions to ${literal(topic)} .*: 2 → 4$`, "m"),
        );
      }
      assert.deepEqual(await topicsOf(name), expected(name, defaultTiers, 4));
      const record = await admin.get(name);
      assert.equal(record.version, 2);
      assert.equal(record.config.partitions, 4);
    }
    const again = await topology("apply", file, "--allow-repartition");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "nothing to change: the cluster matches the topology\n");
  });

  it("completes an older namespace with its log's count, evens out its topics, and leaves dropped tiers", async () => {
    // Made before tiers, DLQ and holds, and with a DLQ that has fewer partitions.
    await withAdmin((kafkaAdmin) =>
      kafkaAdmin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: topicNames.log(older), numPartitions: 3 },
          { topic: topicNames.deadLetter(older), numPartitions: 1 },
        ],
      }),
    );
    const twoTiers = await writeFile([namespace(older, 3, ["1s", "2s"])]);

    const plan = await topology("plan", twoTiers);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(
      plan.stdout,
      new RegExp(
        `^note: namespace '${older}' has topics with different partition counts .*--allow-repartition to bring them all to 3$`,
        "m",
      ),
    );
    assert.deepEqual(
      plan.stdout.match(/^would create topic .*$/gm),
      [topicNames.retry(older, 1), topicNames.retry(older, 2), topicNames.holds(older)].map(
        (topic) =>
          `would create topic ${topic} (${topic.endsWith("holds") ? "holds" : "retry"}) with 3 partitions`,
      ),
    );
    assert.doesNotMatch(plan.stdout, /would add partitions/);

    const completed = await topology("apply", twoTiers);
    assert.equal(completed.code, 0, completed.stderr);
    assert.deepEqual(await topicsOf(older), {
      ...expected(older, 2, 3),
      [topicNames.deadLetter(older)]: 1,
    });

    const evened = await topology("apply", twoTiers, "--allow-repartition");
    assert.equal(evened.code, 0, evened.stderr);
    assert.match(evened.stdout, /different partition counts .*bring them all to 3/);
    assert.equal(
      (evened.stdout.match(/^done: .*$/gm) ?? []).join("\n"),
      `done: add partitions to ${topicNames.deadLetter(older)} (dead-letter): 1 → 3`,
    );
    assert.deepEqual(await topicsOf(older), expected(older, 2, 3));

    const oneTier = await writeFile([namespace(older, 3, ["1s"])]);
    const shorter = await topology("apply", oneTier, "--allow-repartition");
    assert.equal(shorter.code, 0, shorter.stderr);
    const leftAlone = new RegExp(
      `^note: ${literal(topicNames.retry(older, 2))} is retry tier 2, .*left alone$`,
      "m",
    );
    assert.match(shorter.stdout, leftAlone);
    assert.match(shorter.stdout, new RegExp(`^done: update namespace '${older}'`, "m"));
    assert.doesNotMatch(shorter.stdout, /done: (create topic|add partitions)/);

    const unchanged = await topology("apply", oneTier, "--allow-repartition");
    assert.equal(unchanged.code, 0, unchanged.stderr);
    assert.match(unchanged.stdout, leftAlone);
    assert.match(unchanged.stdout, /^nothing to change/m);
    assert.deepEqual(
      await topicsOf(older),
      expected(older, 2, 3),
      "the dropped tier is still there",
    );
  });
});
