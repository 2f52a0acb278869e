import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isWalError, type WalError } from "./errors.ts";
import { parseNamespaceConfig, parseNamespacesFile } from "./namespace-config.ts";

function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "orders",
    targets: { cache: { type: "memcached", servers: "cache-1:11211,cache-2:11211" } },
    defaultTarget: "cache",
    ...overrides,
  };
}

/** Runs `fn`, asserts it throws WAL_INVALID_CONFIG and returns the error. */
function invalidConfig(fn: () => unknown): WalError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, "expected the config to be rejected");
  assert.ok(isWalError(caught), `expected a WalError, got ${String(caught)}`);
  assert.equal(caught.code, ErrorCode.invalidConfig);
  assert.equal(caught.code, "WAL_INVALID_CONFIG");
  assert.equal(caught.canRetry, false);
  return caught;
}

describe("parseNamespaceConfig", () => {
  it("fills every default of a minimal config", () => {
    const config = parseNamespaceConfig(minimal());
    assert.equal(config.name, "orders");
    assert.equal(config.partitions, 6);
    assert.equal(config.replicationFactor, 1);
    assert.deepEqual(config.limits, {
      maxPayloadBytes: 900_000,
      requireKey: true,
      maxKeyBytes: 1024,
    });
    assert.equal(config.defaultTarget, "cache");
    assert.deepEqual(config.targets.cache, {
      type: "memcached",
      servers: "cache-1:11211,cache-2:11211",
      keyPrefix: "",
      expiresSeconds: 0,
    });
    assert.equal(config.delivery.maxConcurrentKeys, 64);
    assert.deepEqual(config.delivery.inPlaceRetry, {
      initialMs: 100,
      maxMs: 10_000,
      multiplier: 2,
      jitter: true,
    });
  });

  it("fills defaults inside partially given sections and keeps given values", () => {
    const config = parseNamespaceConfig(
      minimal({
        partitions: 12,
        limits: { requireKey: false },
        delivery: { inPlaceRetry: { initialMs: 250 } },
      }),
    );
    assert.equal(config.partitions, 12);
    assert.deepEqual(config.limits, {
      maxPayloadBytes: 900_000,
      requireKey: false,
      maxKeyBytes: 1024,
    });
    assert.equal(config.delivery.maxConcurrentKeys, 64);
    assert.deepEqual(config.delivery.inPlaceRetry, {
      initialMs: 250,
      maxMs: 10_000,
      multiplier: 2,
      jitter: true,
    });
  });

  it("accepts every target type and fills their defaults", () => {
    const config = parseNamespaceConfig(
      minimal({
        targets: {
          cache: { type: "memcached", servers: "c:11211", keyPrefix: "o:", expiresSeconds: 60 },
          topic: { type: "kafka-topic", topic: "orders.changes" },
          hook: { type: "webhook", url: "https://hooks.example.com/orders" },
          plain: { type: "webhook", url: "http://localhost:8080/x", timeoutMs: 250 },
        },
        defaultTarget: "hook",
      }),
    );
    assert.deepEqual(config.targets.cache, {
      type: "memcached",
      servers: "c:11211",
      keyPrefix: "o:",
      expiresSeconds: 60,
    });
    assert.deepEqual(config.targets.topic, { type: "kafka-topic", topic: "orders.changes" });
    assert.deepEqual(config.targets.hook, {
      type: "webhook",
      url: "https://hooks.example.com/orders",
      timeoutMs: 5_000,
    });
    assert.deepEqual(config.targets.plain, {
      type: "webhook",
      url: "http://localhost:8080/x",
      timeoutMs: 250,
    });
    assert.equal(config.defaultTarget, "hook");
  });

  it("does not modify its input", () => {
    const input = minimal();
    const copy = structuredClone(input);
    parseNamespaceConfig(input);
    assert.deepEqual(input, copy);
  });

  it("rejects a bad namespace name, naming the field", () => {
    for (const name of [
      "Orders",
      "1orders",
      "orders_eu",
      "",
      "-orders",
      "a".repeat(64),
      "orders.eu",
    ]) {
      const error = invalidConfig(() => parseNamespaceConfig(minimal({ name })));
      assert.equal(error.field, "name", `name ${JSON.stringify(name)}`);
      assert.match(error.message, /name/);
    }
    // The limits of the rule are accepted.
    assert.equal(parseNamespaceConfig(minimal({ name: "a" })).name, "a");
    assert.equal(parseNamespaceConfig(minimal({ name: `a${"-9".repeat(31)}` })).name.length, 63);
  });

  it("rejects a missing name", () => {
    const { name: _name, ...withoutName } = minimal();
    const error = invalidConfig(() => parseNamespaceConfig(withoutName));
    assert.equal(error.field, "name");
  });

  it("rejects a defaultTarget that is not one of the targets", () => {
    const error = invalidConfig(() => parseNamespaceConfig(minimal({ defaultTarget: "db" })));
    assert.equal(error.field, "defaultTarget");
    assert.match(error.message, /defaultTarget/);
  });

  it("rejects a webhook url that is not http(s)", () => {
    for (const url of [
      "ftp://files.example.com/x",
      "file:///etc/passwd",
      "not a url",
      "javascript:alert(1)",
    ]) {
      const error = invalidConfig(() =>
        parseNamespaceConfig(
          minimal({ targets: { hook: { type: "webhook", url } }, defaultTarget: "hook" }),
        ),
      );
      assert.equal(error.field, "targets.hook.url", `url ${url}`);
    }
  });

  it("rejects maxMs below initialMs in the retry backoff", () => {
    const error = invalidConfig(() =>
      parseNamespaceConfig(minimal({ delivery: { inPlaceRetry: { initialMs: 500, maxMs: 100 } } })),
    );
    assert.equal(error.field, "delivery.inPlaceRetry.maxMs");
    assert.match(error.message, /maxMs/);

    // initialMs above the default maxMs, with maxMs left to its default.
    const byDefault = invalidConfig(() =>
      parseNamespaceConfig(minimal({ delivery: { inPlaceRetry: { initialMs: 20_000 } } })),
    );
    assert.equal(byDefault.field, "delivery.inPlaceRetry.maxMs");

    const equal = parseNamespaceConfig(
      minimal({ delivery: { inPlaceRetry: { initialMs: 300, maxMs: 300 } } }),
    );
    assert.equal(equal.delivery.inPlaceRetry.maxMs, 300);
  });

  it("rejects an unknown extra field, naming it in the message", () => {
    const top = invalidConfig(() => parseNamespaceConfig(minimal({ colour: "red" })));
    assert.match(top.message, /colour/);

    const nested = invalidConfig(() =>
      parseNamespaceConfig(minimal({ limits: { maxKeyBytez: 10 } })),
    );
    assert.match(nested.message, /maxKeyBytez/);
    assert.match(nested.field ?? "", /^limits/);

    const inTarget = invalidConfig(() =>
      parseNamespaceConfig(
        minimal({ targets: { cache: { type: "memcached", servers: "c:1", ttl: 5 } } }),
      ),
    );
    assert.match(inTarget.message, /ttl/);
    assert.match(inTarget.field ?? "", /^targets\.cache/);
  });

  it("rejects empty targets", () => {
    const error = invalidConfig(() => parseNamespaceConfig(minimal({ targets: {} })));
    assert.equal(error.field, "targets");
    assert.match(error.message, /at least one target/);
  });

  it("rejects a bad target name, target type and out-of-range numbers, naming the field", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ targets: { cache: { type: "redis", servers: "x" } } }, "targets.cache.type"],
      [{ targets: { cache: { type: "memcached", servers: "" } } }, "targets.cache.servers"],
      [{ targets: { cache: { type: "kafka-topic", topic: "bad topic" } } }, "targets.cache.topic"],
      [{ partitions: 0 }, "partitions"],
      [{ partitions: 1.5 }, "partitions"],
      [{ replicationFactor: 8 }, "replicationFactor"],
      [{ ordering: "loose" }, "ordering"],
      [{ limits: { maxPayloadBytes: 1_000_001 } }, "limits.maxPayloadBytes"],
      [{ limits: { maxPayloadBytes: 0 } }, "limits.maxPayloadBytes"],
      [{ limits: { maxKeyBytes: 16_385 } }, "limits.maxKeyBytes"],
      [{ delivery: { maxConcurrentKeys: 0 } }, "delivery.maxConcurrentKeys"],
      [{ delivery: { inPlaceRetry: { multiplier: 0.5 } } }, "delivery.inPlaceRetry.multiplier"],
    ];
    for (const [overrides, field] of cases) {
      const error = invalidConfig(() => parseNamespaceConfig(minimal(overrides)));
      assert.equal(error.field, field, JSON.stringify(overrides));
    }

    const badKey = invalidConfig(() =>
      parseNamespaceConfig(
        minimal({ targets: { "9cache": { type: "memcached", servers: "c:1" } } }),
      ),
    );
    assert.match(badKey.field ?? "", /^targets/);
  });

  it("takes an optional payload subject, and refuses a malformed one naming the field", () => {
    assert.equal(parseNamespaceConfig(minimal()).payload, undefined);
    const declared = parseNamespaceConfig(minimal({ payload: { subject: "orders-value" } }));
    assert.deepEqual(declared.payload, { subject: "orders-value" });
    for (const payload of [
      { subject: "" },
      { subject: "has space" },
      {},
      { subject: "x", format: "json" },
    ]) {
      const error = invalidConfig(() => parseNamespaceConfig(minimal({ payload })));
      assert.match(error.field ?? "", /^payload/);
    }
  });

  it("rejects input that is not an object", () => {
    for (const input of [null, undefined, "orders", 42, []]) {
      invalidConfig(() => parseNamespaceConfig(input));
    }
  });

  it("names the source in the message", () => {
    const error = invalidConfig(() =>
      parseNamespaceConfig(minimal({ partitions: -1 }), "topology.yaml"),
    );
    assert.match(error.message, /^topology\.yaml is invalid/);
  });
});

describe("parseNamespaceConfig regressions", () => {
  it("rejects a defaultTarget that only exists on Object.prototype", () => {
    for (const defaultTarget of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      const error = invalidConfig(() => parseNamespaceConfig(minimal({ defaultTarget })));
      assert.equal(error.field, "defaultTarget", defaultTarget);
    }
  });

  it("names an unknown field in error.field", () => {
    assert.equal(
      invalidConfig(() => parseNamespaceConfig(minimal({ colour: "red" }))).field,
      "colour",
    );
    assert.equal(
      invalidConfig(() => parseNamespaceConfig(minimal({ limits: { maxKeyBytez: 10 } }))).field,
      "limits.maxKeyBytez",
    );
  });
});

describe("parseNamespacesFile", () => {
  it("parses every namespace with its defaults", () => {
    const namespaces = parseNamespacesFile({
      namespaces: [minimal(), minimal({ name: "payments", partitions: 3 })],
    });
    assert.deepEqual(
      namespaces.map((n) => [n.name, n.partitions, n.limits.maxPayloadBytes]),
      [
        ["orders", 6, 900_000],
        ["payments", 3, 900_000],
      ],
    );
  });

  it("accepts an empty list", () => {
    assert.deepEqual(parseNamespacesFile({ namespaces: [] }), []);
  });

  it("rejects duplicate namespace names", () => {
    const error = invalidConfig(() =>
      parseNamespacesFile({ namespaces: [minimal(), minimal({ partitions: 3 })] }),
    );
    assert.equal(error.field, "namespaces");
    assert.match(error.message, /unique/);
  });

  it("names the index and field of an invalid namespace", () => {
    const error = invalidConfig(() =>
      parseNamespacesFile({
        namespaces: [minimal(), minimal({ name: "payments", defaultTarget: "db" })],
      }),
    );
    assert.equal(error.field, "namespaces.1.defaultTarget");
  });

  it("rejects a file without the namespaces list or with extra fields", () => {
    const missing = invalidConfig(() => parseNamespacesFile({}));
    assert.equal(missing.field, "namespaces");
    const extra = invalidConfig(() => parseNamespacesFile({ namespaces: [], version: 2 }));
    assert.match(extra.message, /version/);
  });
});

describe("shards and allowed clients", () => {
  it("puts a namespace on the default shard, open to every client, unless it says otherwise", () => {
    const config = parseNamespaceConfig(minimal());
    assert.equal(config.shard, "default");
    assert.deepEqual(config.allowedClients, []);
    const placed = parseNamespaceConfig(minimal({ shard: "eu-1", allowedClients: ["billing"] }));
    assert.equal(placed.shard, "eu-1");
    assert.deepEqual(placed.allowedClients, ["billing"]);
  });

  it("names the field of a bad shard or client identity", () => {
    assert.equal(
      invalidConfig(() => parseNamespaceConfig(minimal({ shard: "EU 1" }))).field,
      "shard",
    );
    assert.equal(
      invalidConfig(() => parseNamespaceConfig(minimal({ allowedClients: [""] }))).field,
      "allowedClients.0",
    );
  });
});
