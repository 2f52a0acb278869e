import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../test/support/random.ts";
import { OffsetTracker } from "./offset-tracker.ts";

function shuffle<T>(items: T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const a = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = a;
  }
  return copy;
}

function trackAll(tracker: OffsetTracker, offsets: readonly string[]): void {
  for (const offset of offsets) tracker.track(offset);
}

describe("OffsetTracker", () => {
  it("has no watermark and nothing pending before anything completes", () => {
    const tracker = new OffsetTracker();
    assert.equal(tracker.watermark, undefined);
    assert.equal(tracker.pending, 0);
    trackAll(tracker, ["0", "1", "2"]);
    assert.equal(tracker.watermark, undefined);
    assert.equal(tracker.pending, 3);
  });

  it("advances in order one record at a time", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["0", "1", "2"]);
    assert.equal(tracker.complete("0"), "0");
    assert.equal(tracker.watermark, "0");
    assert.equal(tracker.complete("1"), "1");
    assert.equal(tracker.complete("2"), "2");
    assert.equal(tracker.watermark, "2");
    assert.equal(tracker.pending, 0);
  });

  it("only advances over contiguous done records when completion is out of order", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["0", "1", "2", "3"]);

    assert.equal(tracker.complete("2"), undefined, "2 done but 0 and 1 are not");
    assert.equal(tracker.watermark, undefined);
    assert.equal(tracker.complete("1"), undefined, "1 done but 0 is not");
    assert.equal(tracker.watermark, undefined);
    assert.equal(tracker.pending, 4);

    assert.equal(tracker.complete("0"), "2", "0 completes the run 0..2");
    assert.equal(tracker.watermark, "2");
    assert.equal(tracker.pending, 1);

    assert.equal(tracker.complete("3"), "3");
    assert.equal(tracker.pending, 0);
  });

  it("does not advance past an unfinished record in the middle", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["10", "11", "12", "13", "14"]);
    tracker.complete("10");
    tracker.complete("11");
    tracker.complete("13");
    tracker.complete("14");
    assert.equal(tracker.watermark, "11");
    assert.equal(tracker.pending, 3);
    assert.equal(tracker.complete("12"), "14");
    assert.equal(tracker.pending, 0);
  });

  it("handles gaps in offsets and never waits for offsets it was not given", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["3", "4", "7", "10"]);

    assert.equal(tracker.complete("3"), "3");
    assert.equal(tracker.complete("4"), "4");
    // 5 and 6 were never fetched: 7 follows 4 directly.
    assert.equal(tracker.complete("10"), undefined);
    assert.equal(tracker.watermark, "4");
    assert.equal(tracker.complete("7"), "10");
    assert.equal(tracker.watermark, "10");
    assert.equal(tracker.pending, 0);
  });

  it("reaches the last offset over gaps whatever the completion order", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["3", "4", "7", "10"]);
    for (const offset of ["10", "7", "4"]) assert.equal(tracker.complete(offset), undefined);
    assert.equal(tracker.watermark, undefined);
    assert.equal(tracker.complete("3"), "10");
  });

  it("keeps accepting tracked offsets after the watermark moved", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["1", "2"]);
    tracker.complete("1");
    tracker.complete("2");
    trackAll(tracker, ["5", "6"]);
    assert.equal(tracker.pending, 2);
    assert.equal(tracker.watermark, "2");
    assert.equal(tracker.complete("6"), undefined);
    assert.equal(tracker.complete("5"), "6");
  });

  it("compares offsets numerically, not as strings, and keeps 64-bit precision", () => {
    const tracker = new OffsetTracker();
    // As strings "10" < "9"; as numbers 9 < 10.
    trackAll(tracker, ["9", "10", "100"]);
    // As strings "99" > "100"; as numbers it comes before and must be refused.
    assert.throws(() => tracker.track("99"), RangeError);
    assert.equal(tracker.complete("10"), undefined);
    assert.equal(tracker.complete("9"), "10");

    const big = new OffsetTracker();
    const a = "9007199254740993"; // 2^53 + 1, not representable as a double
    const b = "9007199254740994";
    trackAll(big, [a, b]);
    assert.equal(big.complete(b), undefined);
    assert.equal(big.complete(a), b);
    assert.equal(big.watermark, b);
  });

  it("throws when offsets are tracked out of order or repeated", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["5", "8"]);
    assert.throws(() => tracker.track("7"), RangeError);
    assert.throws(() => tracker.track("8"), RangeError);
    assert.throws(() => tracker.track("0"), RangeError);
    // The rejected offsets were not recorded.
    assert.equal(tracker.pending, 2);
    tracker.track("9");
    assert.equal(tracker.pending, 3);
  });

  it("counts pending records as tracked and not yet below the watermark", () => {
    const tracker = new OffsetTracker();
    trackAll(tracker, ["0", "1", "2", "3", "4"]);
    assert.equal(tracker.pending, 5);
    tracker.complete("4");
    tracker.complete("2");
    assert.equal(tracker.pending, 5, "done records above a hole are still pending");
    tracker.complete("0");
    assert.equal(tracker.pending, 4);
    tracker.complete("1");
    assert.equal(tracker.pending, 2);
    tracker.complete("3");
    assert.equal(tracker.pending, 0);
  });

  it("matches a reference model for shuffled completion of offsets with gaps", () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const random = seededRandom(seed);
      const count = 1 + Math.floor(random() * 60);
      const offsets: string[] = [];
      let next = BigInt(Math.floor(random() * 1000));
      for (let i = 0; i < count; i += 1) {
        offsets.push(String(next));
        // Gaps of 1 to 5 (transaction markers, compaction).
        next += BigInt(1 + Math.floor(random() * 5));
      }

      const tracker = new OffsetTracker();
      trackAll(tracker, offsets);
      const done = new Set<string>();
      let previousWatermark: string | undefined;

      for (const offset of shuffle(offsets, random)) {
        const returned = tracker.complete(offset);
        done.add(offset);

        // Expected: the highest tracked offset whose predecessors in tracked order are all done.
        let prefix = 0;
        while (prefix < offsets.length && done.has(offsets[prefix] as string)) prefix += 1;
        const expected = prefix === 0 ? undefined : offsets[prefix - 1];
        const context = `seed ${seed}, offsets ${offsets.join(",")}, completed ${offset}`;

        assert.equal(tracker.watermark, expected, context);
        assert.equal(tracker.pending, offsets.length - prefix, context);
        assert.equal(returned, expected !== previousWatermark ? expected : undefined, context);
        previousWatermark = expected;
      }
      assert.equal(tracker.watermark, offsets[offsets.length - 1], `seed ${seed}`);
      assert.equal(tracker.pending, 0, `seed ${seed}`);
    }
  });
});

describe("OffsetTracker.complete guards", () => {
  it("refuses an offset it never tracked, so a later record cannot be skipped", () => {
    const tracker = new OffsetTracker();
    tracker.track("1");
    assert.throws(() => tracker.complete("2"), RangeError);
    tracker.track("2");
    tracker.complete("1");
    assert.equal(tracker.watermark, "1");
  });

  it("refuses completing the same offset twice", () => {
    const tracker = new OffsetTracker();
    tracker.track("5");
    tracker.complete("5");
    assert.throws(() => tracker.complete("5"), RangeError);
  });
});
