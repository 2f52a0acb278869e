import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeNatsServer } from "./connection.ts";

describe("describeNatsServer", () => {
  it("names host and port, never credentials", () => {
    assert.equal(describeNatsServer("nats://wal:hunter2@nats.internal:4333"), "nats.internal:4333");
    assert.equal(describeNatsServer("nats://127.0.0.1"), "127.0.0.1:4222");
  });

  it("does not echo a URL it cannot parse (it may hold a password)", () => {
    assert.doesNotMatch(describeNatsServer("nats://wal:hunter2@[bad"), /hunter2/);
  });
});
