import assert from "node:assert/strict";
import type { WalClient } from "../../services/client/index.ts";
import type { WebhookReceiver } from "./webhook-receiver.ts";

export interface KeyedStream {
  namespace: string;
  keys: number;
  writesPerKey: number;
  /** Target name; empty for the namespace's default. */
  target?: string;
}

/** Payload of write `seq` of key `k`: the test reads order back from it. */
export const streamPayload = (k: number, seq: number) => `key-${k}/${seq}`;

/**
 * Writes `writesPerKey` entries to each key: keys in parallel, one key's
 * writes one after another (so the key's log order is the write order).
 * Every write must be durable; resolves with the acknowledged entry ids.
 */
export async function writeKeyedStream(
  client: WalClient,
  stream: KeyedStream,
): Promise<Set<string>> {
  const acknowledged = new Set<string>();
  await Promise.all(
    Array.from({ length: stream.keys }, async (_, k) => {
      for (let seq = 0; seq < stream.writesPerKey; seq += 1) {
        const outcome = await client.write({
          namespace: stream.namespace,
          key: `key-${k}`,
          payload: streamPayload(k, seq),
          target: { name: stream.target ?? "" },
        });
        assert.equal(outcome.durable, "TRUE", `${outcome.code} ${outcome.message}`);
        acknowledged.add(outcome.id);
      }
    }),
  );
  return acknowledged;
}

/** Asserts that, dropping repeats, the webhook received every key's entries in write order. */
export function assertKeyOrder(receiver: WebhookReceiver, stream: KeyedStream): void {
  const firstCalls = receiver.firstCalls();
  for (let k = 0; k < stream.keys; k += 1) {
    assert.deepEqual(
      firstCalls.filter((c) => c.key === `key-${k}`).map((c) => c.body),
      Array.from({ length: stream.writesPerKey }, (_, seq) => streamPayload(k, seq)),
      `order of key-${k}`,
    );
  }
}

/** Resolves once the webhook has received every id in `acknowledged`. */
export function allDelivered(
  receiver: WebhookReceiver,
  acknowledged: Set<string>,
): Set<string> | undefined {
  const ids = new Set(receiver.calls.map((c) => c.entryId));
  return [...acknowledged].every((id) => ids.has(id)) ? ids : undefined;
}
