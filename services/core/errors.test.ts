import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeError, ErrorCode, isWalError, WalError } from "./errors.ts";
import { TargetError } from "./target.ts";

describe("WalError", () => {
  it("carries code, field, message and a canRetry that defaults to false", () => {
    const error = new WalError(ErrorCode.invalidArgument, "key is required", { field: "key" });
    assert.ok(error instanceof Error);
    assert.equal(error.name, "WalError");
    assert.equal(error.code, "WAL_INVALID_ARGUMENT");
    assert.equal(error.field, "key");
    assert.equal(error.message, "key is required");
    assert.equal(error.canRetry, false);
    assert.equal(error.cause, undefined);
  });

  it("keeps canRetry and cause when given", () => {
    const cause = new Error("broker timeout");
    const error = new WalError(ErrorCode.logUnavailable, "log unavailable, retry", {
      canRetry: true,
      cause,
    });
    assert.equal(error.canRetry, true);
    assert.equal(error.cause, cause);
    assert.equal(error.field, undefined);
  });

  it("has stable, distinct, WAL_-prefixed codes", () => {
    const codes = Object.values(ErrorCode);
    assert.equal(new Set(codes).size, codes.length);
    for (const code of codes) assert.match(code, /^WAL_[A-Z_]+$/);
    assert.equal(ErrorCode.namespaceNotFound, "WAL_NAMESPACE_NOT_FOUND");
    assert.equal(ErrorCode.payloadTooLarge, "WAL_PAYLOAD_TOO_LARGE");
    assert.equal(ErrorCode.targetNotAllowed, "WAL_TARGET_NOT_ALLOWED");
    assert.equal(ErrorCode.invalidConfig, "WAL_INVALID_CONFIG");
    assert.equal(ErrorCode.envelopeCorrupt, "WAL_ENVELOPE_CORRUPT");
  });
});

describe("isWalError", () => {
  it("is true for WalError and TargetError", () => {
    assert.equal(isWalError(new WalError(ErrorCode.overloaded, "slow down")), true);
    assert.equal(isWalError(new TargetError("transient", "503")), true);
    assert.equal(isWalError(new TargetError("permanent", "400")), true);
  });

  it("is false for plain errors and non-errors", () => {
    const lookalike = Object.assign(new Error("x"), {
      code: "WAL_INVALID_ARGUMENT",
      canRetry: false,
    });
    for (const value of [
      new Error("x"),
      new TypeError("x"),
      lookalike,
      "WAL_INVALID_ARGUMENT",
      42,
      null,
      undefined,
      {},
    ]) {
      assert.equal(isWalError(value), false, String(value));
    }
  });

  it("recognizes an error branded by another copy of the module", () => {
    const foreign = { [Symbol.for("wal.error")]: true, code: "WAL_OVERLOADED" };
    assert.equal(isWalError(foreign), true);
  });
});

describe("describeError", () => {
  it("gives the message of an error and the string of anything else", () => {
    assert.equal(describeError(new Error("boom")), "boom");
    assert.equal(describeError(new WalError(ErrorCode.infraFailed, "kafka down")), "kafka down");
    assert.equal(describeError("plain"), "plain");
    assert.equal(describeError(7), "7");
    assert.equal(describeError(undefined), "undefined");
  });
});
