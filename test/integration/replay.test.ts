import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import type { ReplayResult } from "../../services/replay/index.ts";
import { dropNamespace } from "../support/kafka.ts";
import { webhookNamespace } from "../support/namespaces.ts";
import { eventually, uniqueName } from "../support/servers.ts";
import {
  runWal,
  startGateway,
  startProcessor,
  writeNamespacesFile,
} from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

describe("wal replay", () => {
  it("re-applies the log from an offset or a time, in order, leaving out the entries named", async (t) => {
    const namespace = uniqueName("replay");
    const receiver = await WebhookReceiver.start();
    const file = await writeNamespacesFile([webhookNamespace(namespace, receiver.url, 1)]);
    const gateway = await startGateway(file.path);
    const processor = await startProcessor(file.path, 1);
    const client = new WalClient(gateway.grpc);
    t.after(async () => {
      client.close();
      await Promise.all([gateway.process.stop(), processor.stop()]);
      await receiver.close();
      await dropNamespace(namespace);
      await file.remove();
    });
    const write = async (key: string, payload: string) => {
      const outcome = await client.write({ namespace, key, payload });
      assert.equal(outcome.durable, "TRUE", outcome.message);
      return outcome.id;
    };
    const first = await write("a", "a1");
    const bad = await write("a", "bad");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const secondHalf = new Date().toISOString();
    const last = await write("b", "b1");
    await eventually("the three entries delivered", 30_000, async () =>
      receiver.calls.length >= 3 ? true : undefined,
    );
    receiver.calls.length = 0;

    const env = { WAL_NAMESPACES_FILE: file.path };
    const replay = async (args: string[]) => {
      const run = await runWal(["replay", namespace, ...args], env);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as ReplayResult;
    };

    const dry = await replay(["--from-offset", "0", "--skip", bad, "--dry-run"]);
    assert.deepEqual([dry.read, dry.applied, dry.skipped, dry.dryRun], [3, 2, 1, true]);
    assert.equal(receiver.calls.length, 0, "a dry run applies nothing");

    const fromStart = await replay(["--from-offset", "0", "--skip", bad]);
    assert.deepEqual([fromStart.read, fromStart.applied, fromStart.skipped], [3, 2, 1]);
    assert.deepEqual(fromStart.failed, []);
    assert.deepEqual(
      receiver.calls.map((c) => [c.entryId, c.body]),
      [
        [first, "a1"],
        [last, "b1"],
      ],
      "the log's entries again, in order, with their ids, without the skipped one",
    );

    receiver.calls.length = 0;
    const fromTime = await replay(["--from-time", secondHalf]);
    assert.deepEqual([fromTime.read, fromTime.applied], [1, 1]);
    assert.deepEqual(
      receiver.calls.map((c) => c.entryId),
      [last],
    );

    const noStart = await runWal(["replay", namespace], env);
    assert.equal(noStart.code, 2);
    assert.match(noStart.stderr, /WAL_INVALID_ARGUMENT: give where the replay starts/);
    const unknown = await runWal(["replay", "no-such-ns", "--from-offset", "0"], env);
    assert.match(unknown.stderr, /WAL_NAMESPACE_NOT_FOUND/);
  });
});
