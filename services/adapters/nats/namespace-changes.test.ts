import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeNamespaceChanged, encodeNamespaceChanged } from "./namespace-changes.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("namespace change notifications", () => {
  it("round-trips a notification as JSON", () => {
    const change = { name: "orders", version: 7 };
    assert.deepEqual(JSON.parse(new TextDecoder().decode(encodeNamespaceChanged(change))), change);
    assert.deepEqual(decodeNamespaceChanged(encodeNamespaceChanged(change)), { change });
  });

  it("ignores fields it does not know, which a later version may send", () => {
    assert.deepEqual(decodeNamespaceChanged(bytes('{"name":"orders","version":3,"at":"now"}')), {
      change: { name: "orders", version: 3 },
    });
  });

  it("refuses what is not a notification, saying why", () => {
    const cases: Array<[string, RegExp]> = [
      ["not json", /not JSON/],
      ['{"name":"orders"}', /version/],
      ['{"name":"orders","version":0}', /version/],
      ['{"name":"orders","version":1.5}', /version/],
      ['{"name":"","version":1}', /name/],
      ["[]", /message|expected/],
    ];
    for (const [text, problem] of cases) {
      const decoded = decodeNamespaceChanged(bytes(text));
      assert.equal(decoded.change, undefined, text);
      assert.match(decoded.problem ?? "", problem, text);
    }
  });
});
