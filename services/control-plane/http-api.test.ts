import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ErrorCode,
  NamespaceConflictError,
  parseNamespaceConfig,
  WalError,
} from "../core/index.ts";
import { errorResponse } from "./http-api.ts";

function configError(): unknown {
  try {
    parseNamespaceConfig({ name: "a", partitions: 0, targets: {}, defaultTarget: "x" });
  } catch (error) {
    return error;
  }
  throw new Error("the config was expected to be invalid");
}

describe("errorResponse", () => {
  it("answers an invalid config 400 naming the field", () => {
    const { status, body } = errorResponse(configError());
    assert.equal(status, 400);
    assert.equal(body.code, "WAL_INVALID_CONFIG");
    assert.equal(body.field, "partitions");
  });

  it("maps each control-plane code to its status", () => {
    const cases: Array<[string, number]> = [
      [ErrorCode.invalidArgument, 400],
      [ErrorCode.unauthorized, 401],
      [ErrorCode.namespaceNotFound, 404],
      [ErrorCode.namespaceExists, 409],
      [ErrorCode.storeUnavailable, 503],
      [ErrorCode.overloaded, 500],
    ];
    for (const [code, status] of cases) {
      const answer = errorResponse(new WalError(code as ErrorCode, "m", { field: "f" }));
      assert.deepEqual(answer, { status, body: { code, message: "m", field: "f" } }, code);
    }
  });

  it("answers a conflict 409 with the current version", () => {
    const { status, body } = errorResponse(new NamespaceConflictError("orders", 3, 5));
    assert.equal(status, 409);
    assert.equal(body.code, "WAL_NAMESPACE_CONFLICT");
    assert.equal(body.field, "expectedVersion");
    assert.equal(body.currentVersion, 5);
    assert.match(body.message, /version 5, not 3/);
  });

  it("keeps the status of a request the HTTP layer refused, as an invalid argument", () => {
    const malformed = Object.assign(new Error("Unexpected end of JSON input"), { statusCode: 400 });
    const { status, body } = errorResponse(malformed);
    assert.equal(status, 400);
    assert.equal(body.code, "WAL_INVALID_ARGUMENT");
    assert.equal(body.field, "body");
  });

  it("answers anything else 500 WAL_INTERNAL", () => {
    assert.equal(errorResponse(new TypeError("boom")).status, 500);
    assert.equal(errorResponse(new TypeError("boom")).body.code, "WAL_INTERNAL");
    assert.equal(errorResponse(new WalError(ErrorCode.internal, "x")).status, 500);
  });
});
