import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isWalError, WalError } from "./errors.ts";
import { TargetError } from "./target.ts";

describe("TargetError", () => {
  it("classifies a transient failure as retryable", () => {
    const error = new TargetError("transient", "503 service unavailable");
    assert.equal(error.kind, "transient");
    assert.equal(error.code, "WAL_TARGET_TRANSIENT");
    assert.equal(error.canRetry, true);
    assert.equal(error.message, "503 service unavailable");
    assert.equal(error.name, "TargetError");
  });

  it("classifies a permanent failure as not retryable", () => {
    const error = new TargetError("permanent", "400 bad request");
    assert.equal(error.kind, "permanent");
    assert.equal(error.code, "WAL_TARGET_PERMANENT");
    assert.equal(error.canRetry, false);
  });

  it("keeps retryAfterMs and cause", () => {
    const cause = new Error("socket hang up");
    const error = new TargetError("transient", "429 too many requests", {
      retryAfterMs: 30_000,
      cause,
    });
    assert.equal(error.retryAfterMs, 30_000);
    assert.equal(error.cause, cause);
    assert.equal(new TargetError("transient", "x").retryAfterMs, undefined);
    assert.equal(new TargetError("permanent", "x", { retryAfterMs: 0 }).retryAfterMs, 0);
  });

  it("is a WalError without a field", () => {
    const error = new TargetError("permanent", "gone");
    assert.ok(error instanceof WalError);
    assert.ok(error instanceof Error);
    assert.ok(isWalError(error));
    assert.equal(error.field, undefined);
  });
});
