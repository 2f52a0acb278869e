import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { TimedLanes } from "./timed-lanes.ts";

describe("TimedLanes", () => {
  it("runs a lane's items in order, none before its due time", async () => {
    const ran: { item: string; at: number; due: number }[] = [];
    const lanes = new TimedLanes<{ name: string; due: number }>(4, async (item) => {
      ran.push({ item: item.name, at: Date.now(), due: item.due });
    });
    const t = Date.now();
    const items = [
      { name: "a1", due: t + 40 },
      { name: "a2", due: t },
      { name: "a3", due: t + 60 },
    ];
    for (const item of items) lanes.push("a", item, item.due);
    await lanes.idle();
    assert.deepEqual(
      ran.map((r) => r.item),
      ["a1", "a2", "a3"],
    );
    for (const r of ran) assert.ok(r.at >= r.due, `${r.item} ran ${r.due - r.at} ms early`);
  });

  it("lets other lanes pass a lane that waits, and waiting holds no slot", async () => {
    const ran: string[] = [];
    const lanes = new TimedLanes<string>(1, async (item) => {
      ran.push(item);
    });
    const t = Date.now();
    for (let i = 0; i < 5; i += 1) lanes.push(`late-${i}`, `late-${i}`, t + 300);
    lanes.push("now", "now", t);
    await lanes.idle();
    assert.equal(ran[0], "now");
    assert.equal(ran.length, 6);
  });

  it("runs at most maxRunning items at once", async () => {
    let running = 0;
    let peak = 0;
    const lanes = new TimedLanes<number>(3, async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(5);
      running -= 1;
    });
    for (let i = 0; i < 20; i += 1) lanes.push(`k${i % 7}`, i, 0);
    await lanes.idle();
    assert.equal(peak, 3);
  });

  it("after close starts nothing more and waits only for what runs", async () => {
    const ran: number[] = [];
    let release = () => {};
    const running = new Promise<void>((resolve) => {
      release = resolve;
    });
    const lanes = new TimedLanes<number>(2, async (item) => {
      await running;
      ran.push(item);
    });
    lanes.push("a", 1, 0);
    lanes.push("a", 2, 0);
    lanes.push("b", 3, Date.now() + 1_000);
    const closed = lanes.close();
    release();
    await closed;
    assert.deepEqual(ran, [1], "only the item already running finished");
    lanes.push("c", 4, 0);
    assert.equal(lanes.size, 0);
  });

  it("keeps running a lane after an item rejects", async () => {
    const ran: number[] = [];
    const lanes = new TimedLanes<number>(1, async (item) => {
      ran.push(item);
      if (item === 1) throw new Error("boom");
    });
    lanes.push("a", 1, 0);
    lanes.push("a", 2, 0);
    await lanes.idle();
    assert.deepEqual(ran, [1, 2]);
  });
});
