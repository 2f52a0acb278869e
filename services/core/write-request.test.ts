import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isWalError, type WalError } from "./errors.ts";
import { type NamespaceConfig, parseNamespaceConfig } from "./namespace-config.ts";
import {
  buildEntry,
  entryIdFor,
  maxIdempotencyKeyLength,
  type WriteRequest,
} from "./write-request.ts";

const now = 1_700_000_000_000;

const orders = parseNamespaceConfig({
  name: "orders",
  limits: { maxPayloadBytes: 64, maxKeyBytes: 8 },
  targets: {
    cache: { type: "memcached", servers: "c:11211" },
    hook: { type: "webhook", url: "https://hooks.example.com/orders" },
  },
  defaultTarget: "cache",
});

const events = parseNamespaceConfig({
  name: "events",
  limits: { requireKey: false },
  targets: { topic: { type: "kafka-topic", topic: "events.out" } },
  defaultTarget: "topic",
});

const payments = parseNamespaceConfig({
  name: "payments",
  allowedClients: ["billing", "refunds"],
  targets: { topic: { type: "kafka-topic", topic: "payments.out" } },
  defaultTarget: "topic",
});

const namespaces = new Map<string, NamespaceConfig>([
  [orders.name, orders],
  [events.name, events],
  [payments.name, payments],
]);
const find = (name: string) => namespaces.get(name);

interface RequestOverrides {
  namespace?: string;
  key?: string;
  idempotencyKey?: string;
  payload?: Buffer;
  lifecycle?: Partial<WriteRequest["lifecycle"]>;
  target?: Partial<WriteRequest["target"]>;
  client?: WriteRequest["client"];
}

function request(overrides: RequestOverrides = {}): WriteRequest {
  return {
    namespace: overrides.namespace ?? "orders",
    key: overrides.key ?? "order-1",
    idempotencyKey: overrides.idempotencyKey ?? "",
    payload: overrides.payload ?? Buffer.from('{"total":42}'),
    lifecycle: { delayMs: 0, deliverAtMs: 0, ttlMs: 0, ...overrides.lifecycle },
    target: { name: "", operation: "UPSERT", resource: "", ...overrides.target },
    ...(overrides.client === undefined ? {} : { client: overrides.client }),
  };
}

/** Jitter draws its middle value, so a rejection never depends on chance. */
function rejection(overrides: RequestOverrides): WalError {
  let caught: unknown;
  try {
    buildEntry(request(overrides), find, now, () => 0.5);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${JSON.stringify(overrides)} to be rejected`);
  assert.ok(isWalError(caught), `expected a WalError, got ${String(caught)}`);
  assert.equal(caught.canRetry, false, "an invalid request fails the same way when retried");
  return caught;
}

function assertRejected(overrides: RequestOverrides, code: string, field: string): WalError {
  const error = rejection(overrides);
  assert.equal(error.code, code, `${JSON.stringify(overrides)}: code`);
  assert.equal(error.field, field, `${JSON.stringify(overrides)}: field`);
  return error;
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("buildEntry", () => {
  it("builds the entry of a valid write", () => {
    const payload = Buffer.from([0, 1, 2, 255]);
    const entry = buildEntry(
      request({
        key: "order-7",
        idempotencyKey: "req-7",
        payload,
        target: { name: "hook", operation: "DELETE", resource: "orders/7" },
      }),
      find,
      now,
    );
    assert.equal(entry.id, entryIdFor("orders", "req-7"));
    assert.equal(entry.namespace, "orders");
    assert.equal(entry.key, "order-7");
    assert.equal(entry.createdAtMs, now);
    assert.deepEqual(entry.lifecycle, { dueAtMs: null, expiresAtMs: null });
    assert.deepEqual(entry.target, { name: "hook", operation: "DELETE", resource: "orders/7" });
    assert.equal(entry.idempotencyKey, "req-7");
    assert.deepEqual(entry.attempts, []);
    assert.equal(entry.originRegion, null);
    assert.ok(entry.payload.equals(payload));
  });

  it("uses the namespace's default target when the name is empty", () => {
    assert.equal(buildEntry(request(), find, now).target.name, "cache");
    assert.equal(buildEntry(request({ namespace: "events" }), find, now).target.name, "topic");
  });

  it("sets resource and idempotency key to null when empty", () => {
    const entry = buildEntry(request(), find, now);
    assert.equal(entry.target.resource, null);
    assert.equal(entry.idempotencyKey, null);
    assert.match(entry.id, uuidShape);
  });

  it("computes expiresAtMs from the clock passed in", () => {
    const entry = buildEntry(request({ lifecycle: { ttlMs: 30_000 } }), find, now);
    assert.equal(entry.lifecycle.expiresAtMs, now + 30_000);
    const later = buildEntry(request({ lifecycle: { ttlMs: 30_000 } }), find, now + 5);
    assert.equal(later.lifecycle.expiresAtMs, now + 30_005);
    assert.equal(later.createdAtMs, now + 5);
  });

  it("accepts a deliver-at that is not in the future as an immediate write", () => {
    for (const deliverAtMs of [now, now - 1]) {
      const entry = buildEntry(request({ lifecycle: { deliverAtMs } }), find, now);
      assert.equal(entry.lifecycle.dueAtMs, null);
    }
  });

  it("accepts payload, key and idempotency key exactly at their limits", () => {
    const entry = buildEntry(
      request({
        key: "k".repeat(8),
        idempotencyKey: "i".repeat(maxIdempotencyKeyLength),
        payload: Buffer.alloc(64),
      }),
      find,
      now,
    );
    assert.equal(entry.key, "kkkkkkkk");
    assert.equal(entry.payload.length, 64);
  });

  it("rejects an empty namespace", () => {
    assertRejected({ namespace: "" }, ErrorCode.invalidArgument, "namespace");
  });

  it("rejects an unknown namespace with WAL_NAMESPACE_NOT_FOUND", () => {
    const error = assertRejected({ namespace: "invoices" }, "WAL_NAMESPACE_NOT_FOUND", "namespace");
    assert.match(error.message, /invoices/);
  });

  it("rejects a missing key when the namespace requires one", () => {
    assertRejected({ key: "" }, "WAL_INVALID_ARGUMENT", "key");
  });

  it("allows a missing key when the namespace does not require one", () => {
    const entry = buildEntry(request({ namespace: "events", key: "" }), find, now);
    assert.equal(entry.key, "");
    assert.equal(entry.namespace, "events");
  });

  it("limits the key in bytes, not characters", () => {
    // 3 characters, 9 bytes in UTF-8: over the 8-byte limit.
    const error = assertRejected({ key: "€€€" }, "WAL_INVALID_ARGUMENT", "key");
    assert.match(error.message, /9 bytes/);
    // 4 characters, 8 bytes: at the limit.
    assert.equal(buildEntry(request({ key: "éééé" }), find, now).key, "éééé");
    // 9 ASCII characters, 9 bytes.
    assertRejected({ key: "k".repeat(9) }, "WAL_INVALID_ARGUMENT", "key");
  });

  it("rejects an idempotency key that is too long", () => {
    assertRejected(
      { idempotencyKey: "i".repeat(maxIdempotencyKeyLength + 1) },
      "WAL_INVALID_ARGUMENT",
      "idempotency_key",
    );
  });

  it("rejects a payload over the namespace limit with WAL_PAYLOAD_TOO_LARGE", () => {
    const error = assertRejected({ payload: Buffer.alloc(65) }, "WAL_PAYLOAD_TOO_LARGE", "payload");
    assert.match(error.message, /65 bytes/);
  });

  it("rejects a negative delay or ttl", () => {
    assertRejected({ lifecycle: { delayMs: -1 } }, "WAL_INVALID_ARGUMENT", "lifecycle.delay_ms");
    assertRejected({ lifecycle: { ttlMs: -1 } }, "WAL_INVALID_ARGUMENT", "lifecycle.ttl_ms");
  });

  it("rejects both a delay and a deliver-at", () => {
    assertRejected(
      { lifecycle: { delayMs: 1_000, deliverAtMs: now + 1_000 } },
      "WAL_INVALID_ARGUMENT",
      "lifecycle",
    );
  });

  it("sets the due time of a delayed write, with jitter only ever adding to it", () => {
    const delayed = buildEntry(request({ lifecycle: { delayMs: 5_000 } }), find, now);
    assert.equal(delayed.lifecycle.dueAtMs, now + 5_000);
    const at = buildEntry(request({ lifecycle: { deliverAtMs: now + 60_000 } }), find, now);
    assert.equal(at.lifecycle.dueAtMs, now + 60_000);
    const past = buildEntry(request({ lifecycle: { deliverAtMs: now - 1 } }), find, now);
    assert.equal(past.lifecycle.dueAtMs, null, "a time already past delivers now");
    for (const draw of [0, 0.5, 0.9999]) {
      const spread = buildEntry(
        request({ lifecycle: { delayMs: 1_000, jitterMs: 400 } }),
        find,
        now,
        () => draw,
      );
      const due = spread.lifecycle.dueAtMs as number;
      assert.ok(due >= now + 1_000 && due < now + 1_400, `due ${due - now}`);
    }
  });

  it("rejects delays the topics cannot keep and inconsistent lifecycles, naming the field", () => {
    const long = assertRejected(
      { lifecycle: { delayMs: 8 * 86_400_000 } },
      "WAL_INVALID_ARGUMENT",
      "lifecycle.delay_ms",
    );
    assert.match(long.message, /8d.*keep entries 7d/);
    assertRejected(
      { lifecycle: { deliverAtMs: now + 7 * 86_400_000, jitterMs: 10 } },
      "WAL_INVALID_ARGUMENT",
      "lifecycle.deliver_at_ms",
    );
    assertRejected(
      { lifecycle: { delayMs: 1, deliverAtMs: now + 1 } },
      "WAL_INVALID_ARGUMENT",
      "lifecycle",
    );
    assertRejected({ lifecycle: { jitterMs: 100 } }, "WAL_INVALID_ARGUMENT", "lifecycle.jitter_ms");
    assertRejected(
      { lifecycle: { jitterMs: -1, delayMs: 5 } },
      "WAL_INVALID_ARGUMENT",
      "lifecycle.jitter_ms",
    );
    const ttl = assertRejected(
      { lifecycle: { delayMs: 60_000, ttlMs: 30_000 } },
      "WAL_INVALID_ARGUMENT",
      "lifecycle.ttl_ms",
    );
    assert.match(ttl.message, /longer than the delay/);
  });

  it("rejects a target the namespace does not declare with WAL_TARGET_NOT_ALLOWED", () => {
    const error = assertRejected(
      { target: { name: "topic" } },
      "WAL_TARGET_NOT_ALLOWED",
      "target.name",
    );
    assert.match(error.message, /cache/, "the message lists the allowed targets");
    assert.match(error.message, /hook/);
  });

  it("checks the namespace before anything else", () => {
    // Every field is wrong; the namespace is reported first.
    assertRejected(
      {
        namespace: "nope",
        key: "",
        payload: Buffer.alloc(1_000),
        lifecycle: { delayMs: -1 },
        target: { name: "x" },
      },
      "WAL_NAMESPACE_NOT_FOUND",
      "namespace",
    );
  });
});

describe("entryIdFor", () => {
  it("is deterministic for the same namespace and idempotency key", () => {
    const id = entryIdFor("orders", "req-1");
    assert.equal(entryIdFor("orders", "req-1"), id);
    assert.match(id, uuidShape);
  });

  it("differs across namespaces and idempotency keys", () => {
    const ids = new Set([
      entryIdFor("orders", "req-1"),
      entryIdFor("payments", "req-1"),
      entryIdFor("orders", "req-2"),
      // The separator keeps ("ab", "c") and ("a", "bc") apart.
      entryIdFor("ab", "c"),
      entryIdFor("a", "bc"),
    ]);
    assert.equal(ids.size, 5);
  });

  it("is random and distinct when the idempotency key is empty", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100; i += 1) {
      const id = entryIdFor("orders", "");
      assert.match(id, uuidShape);
      ids.add(id);
    }
    assert.equal(ids.size, 100);
  });

  it("gives a retried write the same entry id", () => {
    const first = buildEntry(request({ idempotencyKey: "retry-me" }), find, now);
    const retry = buildEntry(request({ idempotencyKey: "retry-me" }), find, now + 1_000);
    assert.equal(retry.id, first.id);
    const other = buildEntry(
      request({ namespace: "events", idempotencyKey: "retry-me" }),
      find,
      now,
    );
    assert.notEqual(other.id, first.id);
    const a = buildEntry(request(), find, now);
    const b = buildEntry(request(), find, now);
    assert.notEqual(a.id, b.id);
  });
});

describe("buildEntry regressions", () => {
  it("rejects a target name that only exists on Object.prototype", () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      assertRejected({ target: { name } }, "WAL_TARGET_NOT_ALLOWED", "target.name");
    }
  });
});

describe("buildEntry against the target's own limits", () => {
  it("refuses a resource that makes a cache key memcached cannot store, naming target.resource", () => {
    const error = assertRejected(
      { target: { resource: "r".repeat(300) } },
      "WAL_INVALID_ARGUMENT",
      "target.resource",
    );
    assert.match(error.message, /memcached allows/);
  });

  it("accepts the same resource for a target without a key limit", () => {
    const entry = buildEntry(
      request({ target: { name: "hook", resource: "r".repeat(300) } }),
      find,
      now,
    );
    assert.equal(entry.target.resource, "r".repeat(300));
  });
});

describe("allowedClients", () => {
  it("admits a listed client, and anyone where the namespace lists none", () => {
    const entry = buildEntry(
      request({ namespace: "payments", client: { name: "billing" } }),
      find,
      now,
    );
    assert.equal(entry.namespace, "payments");
    buildEntry(request({ client: { name: "anyone" } }), find, now);
    buildEntry(request(), find, now);
  });

  it("refuses an unlisted client and an unauthenticated call with WAL_CLIENT_NOT_ALLOWED", () => {
    const stranger = assertRejected(
      { namespace: "payments", client: { name: "marketing" } },
      "WAL_CLIENT_NOT_ALLOWED",
      "namespace",
    );
    assert.match(stranger.message, /client 'marketing' may not write to namespace 'payments'/);
    const anonymous = assertRejected(
      { namespace: "payments" },
      "WAL_CLIENT_NOT_ALLOWED",
      "namespace",
    );
    assert.match(anonymous.message, /did not authenticate its client.*mutual TLS/);
  });
});
