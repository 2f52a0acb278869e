import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../test/support/random.ts";
import { KeyedActors } from "./keyed-actors.ts";

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise continuation run (no timers, no timing assumptions). */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Done {
  key: string;
  item: string;
  error: unknown;
}

/**
 * A harness whose handler blocks on a deferred per item, so a test decides
 * when each item finishes. Records start/end events and concurrency.
 */
function harness(maxActiveKeys: number) {
  const gates = new Map<string, Deferred>();
  const events: string[] = [];
  const done: Done[] = [];
  const runningItems = new Map<string, number>();
  let running = 0;
  let maxRunning = 0;
  let maxSameKey = 0;

  const actors = new KeyedActors<string>(
    maxActiveKeys,
    async (key, item) => {
      events.push(`start ${item}`);
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      const sameKey = (runningItems.get(key) ?? 0) + 1;
      runningItems.set(key, sameKey);
      maxSameKey = Math.max(maxSameKey, sameKey);
      const gate = deferred();
      gates.set(item, gate);
      try {
        await gate.promise;
      } finally {
        running -= 1;
        runningItems.set(key, (runningItems.get(key) ?? 1) - 1);
        events.push(`end ${item}`);
      }
    },
    (key, item, error) => {
      done.push({ key, item, error });
    },
  );

  return {
    actors,
    events,
    done,
    get running() {
      return running;
    },
    get maxRunning() {
      return maxRunning;
    },
    get maxSameKey() {
      return maxSameKey;
    },
    started(): string[] {
      return [...gates.keys()];
    },
    async finish(item: string): Promise<void> {
      const gate = gates.get(item);
      assert.ok(gate, `item ${item} has not started`);
      gate.resolve();
      await flush();
    },
    async fail(item: string, error: unknown): Promise<void> {
      const gate = gates.get(item);
      assert.ok(gate, `item ${item} has not started`);
      gate.reject(error);
      await flush();
    },
  };
}

function settledFlag(promise: Promise<void>): { readonly settled: boolean } {
  const state = { settled: false };
  void promise.then(() => {
    state.settled = true;
  });
  return state;
}

describe("KeyedActors", () => {
  it("rejects a maxActiveKeys that is not a positive integer", () => {
    const noop = async () => {};
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new KeyedActors<string>(bad, noop, () => {}),
        RangeError,
        `maxActiveKeys ${bad}`,
      );
    }
    assert.doesNotThrow(() => new KeyedActors<string>(1, noop, () => {}));
  });

  it("runs the items of one key one at a time in submission order", async () => {
    const h = harness(4);
    h.actors.submit("k", "k1");
    h.actors.submit("k", "k2");
    h.actors.submit("k", "k3");
    await flush();
    assert.deepEqual(h.started(), ["k1"], "only the first item of the key starts");

    await h.finish("k1");
    assert.deepEqual(h.started(), ["k1", "k2"]);
    await h.finish("k2");
    await h.finish("k3");

    assert.deepEqual(h.events, ["start k1", "end k1", "start k2", "end k2", "start k3", "end k3"]);
    assert.deepEqual(
      h.done.map((d) => d.item),
      ["k1", "k2", "k3"],
    );
    assert.equal(h.maxSameKey, 1);
  });

  it("runs different keys in parallel up to maxActiveKeys and never more", async () => {
    const h = harness(2);
    for (const key of ["a", "b", "c", "d"]) h.actors.submit(key, `${key}1`);
    await flush();
    assert.deepEqual(h.started(), ["a1", "b1"], "two keys run at once, in arrival order");
    assert.equal(h.running, 2);

    await h.finish("b1");
    assert.deepEqual(h.started(), ["a1", "b1", "c1"], "a freed slot goes to the next waiting key");
    assert.equal(h.running, 2);

    await h.finish("a1");
    assert.deepEqual(h.started(), ["a1", "b1", "c1", "d1"]);
    await h.finish("c1");
    await h.finish("d1");

    assert.equal(h.maxRunning, 2);
    assert.equal(h.running, 0);
    assert.equal(h.done.length, 4);
  });

  it("uses a free slot at once for a key submitted later", async () => {
    const h = harness(3);
    h.actors.submit("a", "a1");
    await flush();
    h.actors.submit("b", "b1");
    await flush();
    assert.deepEqual(h.started(), ["a1", "b1"]);
    assert.equal(h.running, 2);
    await h.finish("a1");
    await h.finish("b1");
  });

  it("appends an item for a running key instead of running the key twice", async () => {
    const h = harness(2);
    h.actors.submit("a", "a1");
    await flush();
    assert.deepEqual(h.started(), ["a1"]);

    h.actors.submit("a", "a2");
    await flush();
    assert.deepEqual(h.started(), ["a1"], "a2 waits behind a1");

    // The second item of "a" must not hold a slot of its own: "b" still fits.
    h.actors.submit("b", "b1");
    await flush();
    assert.deepEqual(h.started(), ["a1", "b1"]);

    h.actors.submit("c", "c1");
    await flush();
    assert.deepEqual(h.started(), ["a1", "b1"], "both slots are taken");

    await h.finish("a1");
    assert.deepEqual(h.started(), ["a1", "b1", "a2"], "a keeps its slot and runs a2 next");
    await h.finish("a2");
    assert.deepEqual(h.started(), ["a1", "b1", "a2", "c1"]);
    await h.finish("b1");
    await h.finish("c1");

    assert.equal(h.maxSameKey, 1);
    assert.equal(h.maxRunning, 2);
    assert.deepEqual(
      h.done.map((d) => d.item),
      ["a1", "a2", "b1", "c1"],
    );
  });

  it("starts a new actor for a key whose previous actor has finished", async () => {
    const h = harness(1);
    h.actors.submit("a", "a1");
    await flush();
    await h.finish("a1");
    h.actors.submit("a", "a2");
    await flush();
    assert.deepEqual(h.started(), ["a1", "a2"]);
    await h.finish("a2");
    assert.equal(h.done.length, 2);
    await h.actors.idle();
  });

  it("idle() resolves at once when nothing was submitted", async () => {
    const h = harness(1);
    const idle = settledFlag(h.actors.idle());
    await flush();
    assert.equal(idle.settled, true);
  });

  it("idle() resolves only once every submitted item is handled", async () => {
    const h = harness(1);
    h.actors.submit("a", "a1");
    h.actors.submit("a", "a2");
    h.actors.submit("b", "b1");
    const first = settledFlag(h.actors.idle());
    const second = settledFlag(h.actors.idle());
    await flush();
    assert.equal(first.settled, false);

    await h.finish("a1");
    assert.equal(first.settled, false, "a2 and b1 are not handled yet");
    await h.finish("a2");
    assert.equal(first.settled, false, "b1 is waiting for a slot");
    await h.finish("b1");
    assert.equal(first.settled, true);
    assert.equal(second.settled, true, "every waiter is released");
    assert.equal(h.done.length, 3);

    const again = settledFlag(h.actors.idle());
    await flush();
    assert.equal(again.settled, true, "idle again once drained");
  });

  it("idle() waits again for work submitted after it drained", async () => {
    const h = harness(2);
    h.actors.submit("a", "a1");
    await flush();
    await h.finish("a1");
    h.actors.submit("a", "a2");
    const idle = settledFlag(h.actors.idle());
    await flush();
    assert.equal(idle.settled, false);
    await h.finish("a2");
    assert.equal(idle.settled, true);
  });

  it("reports a handler failure via onItemDone and still runs the key's next item", async () => {
    const h = harness(1);
    h.actors.submit("a", "a1");
    h.actors.submit("a", "a2");
    h.actors.submit("b", "b1");
    await flush();
    const failure = new Error("target down");
    await h.fail("a1", failure);

    assert.deepEqual(h.started(), ["a1", "a2"], "the failure does not stop the key");
    await h.finish("a2");
    await h.finish("b1");
    await h.actors.idle();

    assert.deepEqual(h.done, [
      { key: "a", item: "a1", error: failure },
      { key: "a", item: "a2", error: undefined },
      { key: "b", item: "b1", error: undefined },
    ]);
  });

  it("reports a handler that throws synchronously and keeps going", async () => {
    const done: Done[] = [];
    const handled: string[] = [];
    const failure = new Error("sync");
    const actors = new KeyedActors<string>(
      1,
      (_key, item) => {
        handled.push(item);
        if (item === "bad") throw failure;
        return Promise.resolve();
      },
      (key, item, error) => done.push({ key, item, error }),
    );
    actors.submit("k", "bad");
    actors.submit("k", "good");
    actors.submit("j", "other");
    await actors.idle();
    assert.deepEqual(handled, ["bad", "good", "other"]);
    assert.deepEqual(done, [
      { key: "k", item: "bad", error: failure },
      { key: "k", item: "good", error: undefined },
      { key: "j", item: "other", error: undefined },
    ]);
  });

  it("treats falsy items (empty string, 0) as real items", async () => {
    const seen: Array<string | number> = [];
    const actors = new KeyedActors<string | number>(
      1,
      async (_key, item) => {
        seen.push(item);
      },
      () => {},
    );
    actors.submit("k", "");
    actors.submit("k", 0);
    actors.submit("k", "x");
    await actors.idle();
    assert.deepEqual(seen, ["", 0, "x"]);
  });

  it("keeps per-key order and the concurrency bound under random interleavings", async () => {
    for (let seed = 1; seed <= 25; seed += 1) {
      const random = seededRandom(seed);
      const maxActiveKeys = 1 + Math.floor(random() * 4);
      const keyCount = 1 + Math.floor(random() * 10);
      const itemCount = 20 + Math.floor(random() * 60);
      const context = `seed ${seed}, maxActiveKeys ${maxActiveKeys}, keys ${keyCount}`;

      const gates = new Map<string, Deferred>();
      const submitted = new Map<string, string[]>();
      const started = new Map<string, string[]>();
      const finished = new Map<string, string[]>();
      const activeKeys = new Set<string>();
      let maxActive = 0;
      let sameKeyOverlap = false;
      const failures = new Set<string>();

      const actors = new KeyedActors<string>(
        maxActiveKeys,
        async (key, item) => {
          if (activeKeys.has(key)) sameKeyOverlap = true;
          activeKeys.add(key);
          maxActive = Math.max(maxActive, activeKeys.size);
          started.set(key, [...(started.get(key) ?? []), item]);
          const gate = deferred();
          gates.set(item, gate);
          try {
            await gate.promise;
          } finally {
            activeKeys.delete(key);
          }
        },
        (key, item, error) => {
          finished.set(key, [...(finished.get(key) ?? []), item]);
          assert.equal(error !== undefined, failures.has(item), `${context}: error of ${item}`);
        },
      );

      let next = 0;
      const submitOne = () => {
        const key = `key-${Math.floor(random() * keyCount)}`;
        const item = `${key}/${next}`;
        next += 1;
        submitted.set(key, [...(submitted.get(key) ?? []), item]);
        actors.submit(key, item);
      };

      while (next < itemCount || gates.size > 0) {
        const canSubmit = next < itemCount;
        if (canSubmit && (gates.size === 0 || random() < 0.4)) {
          submitOne();
        } else {
          const startedItems = [...gates.keys()];
          const item = startedItems[Math.floor(random() * startedItems.length)] as string;
          const gate = gates.get(item) as Deferred;
          gates.delete(item);
          if (random() < 0.15) {
            failures.add(item);
            gate.reject(new Error(`failed ${item}`));
          } else {
            gate.resolve();
          }
        }
        await flush();

        // Work-conserving: every key with unfinished items runs while a slot is free.
        const keysWithWork = [...submitted.entries()].filter(
          ([key, items]) => (finished.get(key)?.length ?? 0) < items.length,
        ).length;
        assert.equal(activeKeys.size, Math.min(maxActiveKeys, keysWithWork), context);
        assert.ok(activeKeys.size <= maxActiveKeys, context);
      }

      await actors.idle();
      assert.equal(sameKeyOverlap, false, `${context}: a key ran two items at once`);
      assert.ok(maxActive <= maxActiveKeys, `${context}: ${maxActive} keys ran at once`);
      for (const [key, items] of submitted) {
        assert.deepEqual(started.get(key), items, `${context}: start order of ${key}`);
        assert.deepEqual(finished.get(key), items, `${context}: done order of ${key}`);
      }
    }
  });
});
