import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeEntry, encodeEntry, envelopeSchemaPath, type WalEntry } from "./envelope.ts";
import { ErrorCode, isWalError } from "./errors.ts";

function fullEntry(): WalEntry {
  return {
    id: "3f2a6c1e-9b7d-4e21-8a55-0c4d2e6f7a81",
    namespace: "orders",
    key: "order-ü-7",
    createdAtMs: 1_700_000_000_123,
    lifecycle: { dueAtMs: 1_700_000_060_000, expiresAtMs: 1_700_003_600_000 },
    target: { name: "cache", operation: "DELETE", resource: "orders:7" },
    idempotencyKey: "req-7",
    attempts: [
      { atMs: 1_700_000_001_000, errorCode: "WAL_TARGET_TRANSIENT", message: "connection reset" },
      { atMs: 1_700_000_002_500, errorCode: "WAL_TARGET_PERMANENT", message: "401 unauthorized" },
    ],
    originRegion: "eu-west-1",
    payload: Buffer.from([0x00, 0xff, 0x7f, 0x80, 0x0a, 0x00]),
  };
}

function minimalEntry(): WalEntry {
  return {
    id: "a",
    namespace: "events",
    key: "",
    createdAtMs: 0,
    lifecycle: { dueAtMs: null, expiresAtMs: null },
    target: { name: "topic", operation: "UPSERT", resource: null },
    idempotencyKey: null,
    attempts: [],
    originRegion: null,
    payload: Buffer.alloc(0),
  };
}

/** Plain-data view of an entry, so decoded Avro records compare by value. */
function plain(entry: WalEntry): unknown {
  return {
    id: entry.id,
    namespace: entry.namespace,
    key: entry.key,
    createdAtMs: entry.createdAtMs,
    lifecycle: { dueAtMs: entry.lifecycle.dueAtMs, expiresAtMs: entry.lifecycle.expiresAtMs },
    target: {
      name: entry.target.name,
      operation: entry.target.operation,
      resource: entry.target.resource,
    },
    idempotencyKey: entry.idempotencyKey,
    attempts: entry.attempts.map((a) => ({
      atMs: a.atMs,
      errorCode: a.errorCode,
      message: a.message,
    })),
    originRegion: entry.originRegion,
    payload: [...entry.payload],
  };
}

function assertCorrupt(value: Buffer): void {
  let caught: unknown;
  try {
    decodeEntry(value);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${value.toString("hex")} to be refused`);
  assert.ok(isWalError(caught), `expected a WalError, got ${String(caught)}`);
  assert.equal(caught.code, ErrorCode.envelopeCorrupt);
  assert.equal(caught.code, "WAL_ENVELOPE_CORRUPT");
  assert.equal(caught.canRetry, false);
  assert.ok(caught.cause !== undefined, "the decoder's error is kept as the cause");
}

describe("envelope", () => {
  it("round-trips every field of a full entry", () => {
    const entry = fullEntry();
    const decoded = decodeEntry(encodeEntry(entry));
    assert.deepEqual(plain(decoded), plain(entry));
    assert.ok(Buffer.isBuffer(decoded.payload));
    assert.ok(decoded.payload.equals(entry.payload));
    assert.equal(decoded.attempts.length, 2);
    assert.equal(typeof decoded.createdAtMs, "number");
  });

  it("round-trips the nulls and empties of a minimal entry", () => {
    const entry = minimalEntry();
    const decoded = decodeEntry(encodeEntry(entry));
    assert.deepEqual(plain(decoded), plain(entry));
    assert.equal(decoded.lifecycle.dueAtMs, null);
    assert.equal(decoded.target.resource, null);
    assert.equal(decoded.payload.length, 0);
  });

  it("round-trips a large binary payload byte for byte", () => {
    const payload = Buffer.alloc(70_000);
    for (let i = 0; i < payload.length; i += 1) payload[i] = (i * 31 + 7) % 256;
    const decoded = decodeEntry(encodeEntry({ ...fullEntry(), payload }));
    assert.ok(decoded.payload.equals(payload));
  });

  it("encodes the same entry to the same bytes", () => {
    assert.ok(encodeEntry(fullEntry()).equals(encodeEntry(fullEntry())));
    assert.ok(!encodeEntry(fullEntry()).equals(encodeEntry(minimalEntry())));
  });

  it("refuses garbage with WAL_ENVELOPE_CORRUPT", () => {
    assertCorrupt(Buffer.alloc(0));
    assertCorrupt(Buffer.from("this is not an avro envelope"));
    assertCorrupt(Buffer.from('{"id":"a","namespace":"orders"}'));
    assertCorrupt(Buffer.alloc(16, 0xff));
  });

  it("refuses a truncated envelope", () => {
    const bytes = encodeEntry(fullEntry());
    for (const length of [1, 10, bytes.length - 1]) assertCorrupt(bytes.subarray(0, length));
  });

  it("refuses an envelope with trailing bytes", () => {
    assertCorrupt(Buffer.concat([encodeEntry(fullEntry()), Buffer.from([0x00])]));
  });

  it("points at the schema file shipped in schemas/", () => {
    assert.ok(existsSync(fileURLToPath(envelopeSchemaPath)));
    assert.match(envelopeSchemaPath.pathname, /schemas\/avro\/wal\.v1\.WalEntry\.avsc$/);
  });
});
