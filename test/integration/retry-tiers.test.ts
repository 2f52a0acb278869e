import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import {
  decodeEntry,
  type NamespaceConfigInput,
  topicNames,
  walHeaders,
} from "../../services/core/index.ts";
import { readTopic } from "../support/kafka.ts";
import { eventually } from "../support/servers.ts";
import { webhookFixture } from "../support/webhook-fixture.ts";
import type { ReceivedCall, WebhookReceiver } from "../support/webhook-receiver.ts";

/** Short tiers keep the tests quick; the rules are the ones of the default tiers. */
async function fixture(
  t: TestContext,
  prefix: string,
  overrides: Partial<NamespaceConfigInput> = {},
) {
  const { namespace, receiver, client, startOne } = await webhookFixture(t, prefix, {
    delivery: { inPlaceRetry: { initialMs: 20, maxMs: 50 } },
    retry: { tiers: ["300ms", "1s"], jitter: false, inPlaceAttempts: 1, maxAttempts: 6 },
    ...overrides,
  });
  const write = async (key: string, payload: string, lifecycle = {}) => {
    const outcome = await client.write({ namespace, key, payload, lifecycle });
    assert.equal(outcome.durable, "TRUE", `${outcome.code} ${outcome.message}`);
    return outcome.id;
  };
  return { namespace, receiver, startOne, write };
}

/** Waits until every entry asked for has arrived, then checks none came before its time. */
async function assertDeliveredNotEarly(
  receiver: WebhookReceiver,
  asked: Map<string, number>,
  timeoutMs: number,
): Promise<void> {
  await eventually("every delayed entry delivered", timeoutMs, async () =>
    [...asked.keys()].every((id) => receiver.calls.some((c) => c.entryId === id))
      ? true
      : undefined,
  );
  for (const [id, notBefore] of asked) {
    const call = receiver.calls.find((c) => c.entryId === id) as ReceivedCall;
    assert.ok(call.atMs >= notBefore, `${call.body} arrived ${notBefore - call.atMs} ms early`);
  }
}

const bodiesOf = (calls: ReceivedCall[], key: string) =>
  calls.filter((c) => c.key === key).map((c) => c.body);

describe("retry tiers and the dead-letter queue", () => {
  it("a target down for a while, then back: every entry delivered, attempts counted honestly", async (t) => {
    const { receiver, startOne, write } = await fixture(t, "down", {
      retry: { tiers: ["300ms", "1s"], jitter: false, inPlaceAttempts: 1, maxAttempts: 100 },
    });
    let down = true;
    receiver.refuse = () => (down ? 503 : undefined);
    await startOne();
    const ids: string[] = [];
    for (let k = 0; k < 6; k += 1) {
      for (let seq = 0; seq < 3; seq += 1) ids.push(await write(`key-${k}`, `key-${k}/${seq}`));
    }
    // Down until each key's first entry has failed twice (been through a tier); the later
    // entries of a key wait behind it (strict order), untried.
    const heads = ids.filter((_, i) => i % 3 === 0);
    await eventually("each key's first entry failed twice", 60_000, async () =>
      heads.every((id) => receiver.refused.filter((c) => c.entryId === id).length >= 2)
        ? true
        : undefined,
    );
    down = false;
    await eventually("every entry delivered", 60_000, async () =>
      ids.every((id) => receiver.calls.some((c) => c.entryId === id)) ? true : undefined,
    );
    for (const id of ids) {
      const delivered = receiver.calls.find((c) => c.entryId === id) as ReceivedCall;
      const failures = receiver.refused.filter((c) => c.entryId === id);
      assert.equal(delivered.attempt, failures.length + 1, `attempts of ${id}`);
      assert.deepEqual(
        failures.map((c) => c.attempt),
        failures.map((_, i) => i + 1),
        `each failed attempt of ${id} counted once, in order`,
      );
    }
    for (let k = 0; k < 6; k += 1) {
      assert.deepEqual(bodiesOf(receiver.firstCalls(), `key-${k}`), [
        `key-${k}/0`,
        `key-${k}/1`,
        `key-${k}/2`,
      ]);
    }
  });

  it("a poison entry reaches the DLQ after the maximum attempts, with its whole history", async (t) => {
    const { namespace, receiver, startOne, write } = await fixture(t, "poison", {
      retry: { tiers: ["200ms", "500ms"], jitter: false, inPlaceAttempts: 2, maxAttempts: 4 },
    });
    receiver.refuse = (call) => (call.body === "poison" ? 500 : undefined);
    await startOne();
    const poison = await write("k", "poison");
    const after = await write("k", "after");
    const other = await write("other", "fine");

    await eventually("the entry after the poison delivered", 60_000, async () =>
      receiver.calls.some((c) => c.entryId === after) ? true : undefined,
    );
    assert.ok(receiver.calls.some((c) => c.entryId === other));
    assert.ok(!receiver.calls.some((c) => c.entryId === poison));
    assert.equal(receiver.refused.filter((c) => c.entryId === poison).length, 4);
    const lastFailure = Math.max(
      ...receiver.refused.filter((c) => c.entryId === poison).map((c) => c.atMs),
    );
    const afterCall = receiver.calls.find((c) => c.entryId === after) as ReceivedCall;
    assert.ok(afterCall.atMs >= lastFailure, "strict order: the next entry waited for the poison");

    const dead = await eventually("the poison in the DLQ", 30_000, async () => {
      const records = await readTopic(topicNames.deadLetter(namespace));
      return records.length > 0 ? records : undefined;
    });
    assert.equal(dead.length, 1, "dead-lettered once");
    const record = dead[0] as (typeof dead)[number];
    const entry = decodeEntry(record.value);
    assert.equal(entry.id, poison);
    assert.equal(record.headers[walHeaders.deadReason], "WAL_RETRIES_EXHAUSTED");
    assert.match(record.headers[walHeaders.deadMessage] ?? "", /4 failed attempts/);
    assert.equal(entry.attempts.length, 4);
    for (const attempt of entry.attempts) {
      assert.equal(attempt.errorCode, "WAL_TARGET_TRANSIENT");
      assert.match(attempt.message, /500/);
    }
    const times = entry.attempts.map((a) => a.atMs);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    assert.ok(
      (times[2] as number) - (times[1] as number) >= 200,
      "the first tier waited its delay",
    );
    assert.ok((times[3] as number) - (times[2] as number) >= 500, "then the second tier");
  });

  it("strict order holds for a key with a failing entry across a processor restart", async (t) => {
    const { receiver, startOne, write } = await fixture(t, "strict", {
      retry: { tiers: ["300ms", "1s"], jitter: false, inPlaceAttempts: 1, maxAttempts: 100 },
    });
    let healed = false;
    receiver.refuse = (call) => (call.body === "k/0" && !healed ? 503 : undefined);
    const first = await startOne();
    const ids: string[] = [];
    for (let seq = 0; seq < 4; seq += 1) ids.push(await write("k", `k/${seq}`));
    const others = [await write("x", "x/0"), await write("y", "y/0")];
    await eventually("other keys delivered while k waits", 60_000, async () =>
      others.every((id) => receiver.calls.some((c) => c.entryId === id)) ? true : undefined,
    );
    await eventually("k/0 retried from a tier", 60_000, async () =>
      receiver.refused.filter((c) => c.body === "k/0").length >= 3 ? true : undefined,
    );
    await first.kill();
    await startOne();
    await eventually("k/0 retried by the new processor", 60_000, async () =>
      receiver.refused.filter((c) => c.body === "k/0").length >= 5 ? true : undefined,
    );
    assert.deepEqual(bodiesOf(receiver.calls, "k"), [], "nothing of k passed its failing head");
    healed = true;
    await eventually("every entry of k delivered", 60_000, async () =>
      ids.every((id) => receiver.calls.some((c) => c.entryId === id)) ? true : undefined,
    );
    assert.deepEqual(bodiesOf(receiver.firstCalls(), "k"), ["k/0", "k/1", "k/2", "k/3"]);
  });

  it("kill -9 while entries are in the tiers loses nothing and hands nothing off twice", async (t) => {
    const { namespace, receiver, startOne, write } = await fixture(t, "kill", {
      delivery: { ordering: "relaxed", inPlaceRetry: { initialMs: 20, maxMs: 50 } },
      retry: { tiers: ["300ms", "1s"], jitter: false, inPlaceAttempts: 1, maxAttempts: 100 },
    });
    let down = true;
    receiver.refuse = () => (down ? 503 : undefined);
    const first = await startOne();
    const ids = await Promise.all(
      Array.from({ length: 60 }, (_, i) => write(`key-${i % 12}`, `entry-${i}`)),
    );
    const copiesIn = async (tiers: number[]) =>
      (await Promise.all(tiers.map((tier) => readTopic(topicNames.retry(namespace, tier))))).flat();
    await eventually("every entry handed off to the first tier", 60_000, async () => {
      const inTier = new Set((await copiesIn([1])).map((r) => r.headers[walHeaders.entryId]));
      return ids.every((id) => inTier.has(id)) ? true : undefined;
    });
    await first.kill();
    const refusedBefore = receiver.refused.length;
    await startOne();
    await eventually("the new processor retries", 60_000, async () =>
      receiver.refused.length > refusedBefore ? true : undefined,
    );
    down = false;
    await eventually("every entry delivered", 90_000, async () =>
      ids.every((id) => receiver.calls.some((c) => c.entryId === id)) ? true : undefined,
    );
    assert.equal(new Set(receiver.calls.map((c) => c.entryId)).size, ids.length);

    // A record of the log or a tier is copied once, whoever owned it when.
    const handOffs = (await copiesIn([1, 2])).map((r) => r.headers[walHeaders.copiedFrom]);
    assert.ok(
      handOffs.length >= ids.length,
      `every entry went through a tier: ${handOffs.length} copies of ${ids.length} entries`,
    );
    assert.equal(new Set(handOffs).size, handOffs.length, "no record handed off twice");
  });

  it("delayed entries never arrive early", async (t) => {
    const { receiver, startOne, write } = await fixture(t, "delay", {
      delivery: { ordering: "relaxed" },
      retry: { tiers: ["500ms", "2s"], jitter: false },
    });
    await startOne();
    const asked = new Map<string, number>();
    const delays = [0, 100, 400, 700, 1_200, 2_500, 4_000];
    await Promise.all(
      Array.from({ length: 35 }, async (_, i) => {
        const delayMs = delays[i % delays.length] as number;
        const before = Date.now();
        const id = await write(`key-${i}`, `d-${i}`, {
          delayMs,
          jitterMs: i % 2 === 0 && delayMs > 0 ? 200 : 0,
        });
        asked.set(id, before + delayMs);
      }),
    );
    await assertDeliveredNotEarly(receiver, asked, 60_000);
  });

  it("an entry past its time to live goes to the DLQ as expired, not to the target", async (t) => {
    const { namespace, receiver, startOne, write } = await fixture(t, "ttl", {
      retry: { tiers: ["300ms"], jitter: false, inPlaceAttempts: 1, maxAttempts: 100 },
    });
    receiver.refuse = (call) => (call.body === "short-lived" ? 503 : undefined);
    await startOne();
    const id = await write("k", "short-lived", { ttlMs: 1_500 });
    const dead = await eventually("the expired entry in the DLQ", 30_000, async () => {
      const records = await readTopic(topicNames.deadLetter(namespace));
      return records.length > 0 ? records : undefined;
    });
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.headers[walHeaders.entryId], id);
    assert.equal(dead[0]?.headers[walHeaders.deadReason], "WAL_ENTRY_EXPIRED");
    assert.ok(
      receiver.refused.some((c) => c.entryId === id),
      "it was tried while it lived",
    );
    assert.ok(!receiver.calls.some((c) => c.entryId === id));
  });

  it("delayed entries survive rebalances: a processor joins, then the first leaves", async (t) => {
    const { receiver, startOne, write } = await fixture(t, "rebalance", {
      delivery: { ordering: "relaxed" },
      retry: { tiers: ["500ms", "2s"], jitter: false },
    });
    const first = await startOne();
    const asked = new Map<string, number>();
    const writeDelayed = async (i: number) => {
      const delayMs = 500 + (i % 8) * 500;
      const before = Date.now();
      asked.set(await write(`key-${i}`, `r-${i}`, { delayMs }), before + delayMs);
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeDelayed(i)));
    await startOne();
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeDelayed(30 + i)));
    assert.equal(await first.stop(), 0, "the first processor stopped gracefully");
    await Promise.all(Array.from({ length: 30 }, (_, i) => writeDelayed(60 + i)));
    await assertDeliveredNotEarly(receiver, asked, 90_000);
  });
});
