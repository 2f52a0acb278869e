import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readWholeTopic } from "../../services/adapters/kafka/index.ts";
import { WalClient } from "../../services/client/index.ts";
import { type NamespaceConfigInput, topicNames } from "../../services/core/index.ts";
import type { ListedDeadLetter, RedriveResult } from "../../services/dead-letters/index.ts";
import { dropNamespace, testKafka } from "../support/kafka.ts";
import { webhookNamespace } from "../support/namespaces.ts";
import { createSchema } from "../support/postgres.ts";
import { eventually, freePort, uniqueName } from "../support/servers.ts";
import {
  runWal,
  startGateway,
  startProcessor,
  WalProcess,
  writeNamespacesFile,
} from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const adminToken = "dlq-test-admin-token-0123456789";

describe("DLQ tools: list, show, redrive with dry run and audit", () => {
  it("a poison entry redriven after the fix is delivered once, keeping its id", async (t) => {
    const namespace = uniqueName("dlq");
    const receiver = await WebhookReceiver.start();
    let fixed = false;
    receiver.refuse = (call) => (call.body === "poison" && !fixed ? 500 : undefined);
    const config: NamespaceConfigInput = {
      ...webhookNamespace(namespace, receiver.url, 2),
      retry: { tiers: ["200ms"], jitter: false, inPlaceAttempts: 1, maxAttempts: 3 },
    };
    const file = await writeNamespacesFile([config]);
    const schema = await createSchema("dlq");
    const metricsPort = await freePort();
    const processorMetricsPort = await freePort();
    const controlPlane = WalProcess.start(["control-plane", "--port", "0"], {
      WAL_DATABASE_URL: schema.url,
      WAL_ADMIN_TOKEN: adminToken,
      WAL_METRICS_PORT: String(metricsPort),
    });
    const gateway = await startGateway(file.path);
    const processor = await startProcessor(file.path, 1, {
      WAL_METRICS_PORT: String(processorMetricsPort),
    });
    const client = new WalClient(gateway.grpc);
    t.after(async () => {
      client.close();
      await Promise.all([gateway.process.stop(), processor.stop(), controlPlane.stop()]);
      await receiver.close();
      await schema.drop();
      await dropNamespace(namespace);
      await file.remove();
    });
    const serving = await controlPlane.waitForLine((l) => l.msg === "control plane serving");
    const env = {
      WAL_CONTROL_PLANE_URL: `http://${serving.http as string}`,
      WAL_ADMIN_TOKEN: adminToken,
      WAL_ACTOR: "dlq-test",
    };
    const wal = async <T>(args: string[]): Promise<T> => {
      const run = await runWal(args, env, args.includes("-") ? JSON.stringify(config) : "");
      assert.equal(run.code, 0, `wal ${args.join(" ")}: ${run.stderr}`);
      return JSON.parse(run.stdout) as T;
    };
    await wal(["namespaces", "create", "--file", "-"]);

    const write = async (key: string, payload: string) => {
      const outcome = await client.write({ namespace, key, payload });
      assert.equal(outcome.durable, "TRUE", outcome.message);
      return outcome.id;
    };
    const poison = await write("k", "poison");
    await write("other", "fine");

    const listed = await eventually("the poison in the DLQ", 60_000, async () => {
      const answer = await wal<{ total: number; deadLetters: ListedDeadLetter[] }>([
        "dlq",
        "list",
        namespace,
      ]);
      return answer.total > 0 ? answer : undefined;
    });
    assert.equal(listed.total, 1);
    const letter = listed.deadLetters[0] as ListedDeadLetter;
    assert.equal(letter.entryId, poison);
    assert.equal(letter.key, "k");
    assert.equal(letter.reason, "WAL_RETRIES_EXHAUSTED");
    assert.equal(letter.attempts.length, 3);
    assert.match(letter.traceId ?? "", /^[\da-f]{32}$/, "the write's trace id");
    assert.equal(letter.redriven, false);

    const depth = new RegExp(
      `^wal_dead_letters_waiting\\{namespace="${namespace}"[^}]*\\} (\\d+)$`,
      "m",
    );
    const scrapeDepth = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return depth.exec(text)?.[1];
    };
    await eventually("the DLQ depth gauge counts the poison", 30_000, async () =>
      (await scrapeDepth()) === "1" ? true : undefined,
    );

    const processorMetrics = await (
      await fetch(`http://127.0.0.1:${processorMetricsPort}/metrics`)
    ).text();
    assert.match(
      processorMetrics,
      new RegExp(
        `^wal_dead_letters_total\\{(?=[^}]*namespace="${namespace}")(?=[^}]*reason="WAL_RETRIES_EXHAUSTED")[^}]*\\} 1$`,
        "m",
      ),
      "the processor counts the entry it dead-lettered",
    );

    const shown = await wal<ListedDeadLetter[]>(["dlq", "show", namespace, poison]);
    assert.deepEqual(
      shown.map((l) => l.attempts.map((a) => a.errorCode)),
      [["WAL_TARGET_TRANSIENT", "WAL_TARGET_TRANSIENT", "WAL_TARGET_TRANSIENT"]],
    );
    const byOtherKey = await wal<{ total: number }>(["dlq", "list", namespace, "--key", "nope"]);
    assert.equal(byOtherKey.total, 0);

    const unfiltered = await runWal(["dlq", "redrive", namespace], env);
    assert.notEqual(unfiltered.code, 0);
    assert.match(unfiltered.stderr, /WAL_INVALID_ARGUMENT: .*filter.*"all"/);

    fixed = true;
    const logTopic = topicNames.log(namespace);
    const logBefore = (await readWholeTopic(testKafka(), logTopic)).length;
    const dryRun = await wal<RedriveResult>([
      "dlq",
      "redrive",
      namespace,
      "--id",
      poison,
      "--dry-run",
    ]);
    assert.deepEqual(dryRun.entryIds, [poison]);
    assert.equal(dryRun.dryRun, true);
    assert.equal(
      (await readWholeTopic(testKafka(), logTopic)).length,
      logBefore,
      "a dry run writes nothing",
    );

    const redriven = await wal<RedriveResult>(["dlq", "redrive", namespace, "--key", "k"]);
    assert.deepEqual(redriven.entryIds, [poison]);
    // Written after the redrive, in the same key: once it arrives, the redriven entry has too.
    const sentinel = await write("k", "after-redrive");
    await eventually("the entry after the redrive delivered", 60_000, async () =>
      receiver.calls.some((c) => c.entryId === sentinel) ? true : undefined,
    );
    assert.deepEqual(
      receiver.calls.filter((c) => c.key === "k").map((c) => [c.entryId, c.body]),
      [
        [poison, "poison"],
        [sentinel, "after-redrive"],
      ],
      "the redriven entry arrived once, with its id, before the later entry",
    );

    const again = await wal<RedriveResult>(["dlq", "redrive", namespace, "--all"]);
    assert.deepEqual(again.entryIds, []);
    assert.equal(again.skippedAsRedriven, 1, "an entry already redriven is not sent twice");
    const relisted = await wal<{ deadLetters: ListedDeadLetter[] }>(["dlq", "list", namespace]);
    assert.equal(relisted.deadLetters[0]?.redriven, true);
    await eventually("the DLQ depth gauge no longer counts the redriven entry", 30_000, async () =>
      (await scrapeDepth()) === "0" ? true : undefined,
    );

    const audit = await wal<{ actor: string; dryRun: boolean; entryIds: string[] }[]>([
      "dlq",
      "redrives",
      namespace,
    ]);
    assert.deepEqual(
      audit.map((r) => [r.actor, r.dryRun, r.entryIds]),
      [
        ["dlq-test", true, [poison]],
        ["dlq-test", false, [poison]],
        ["dlq-test", false, []],
      ],
    );
  });
});
