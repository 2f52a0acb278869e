import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as backoff from "./backoff.ts";
import * as deadLetter from "./dead-letter.ts";
import * as durations from "./durations.ts";
import * as envelope from "./envelope.ts";
import * as errors from "./errors.ts";
import * as core from "./index.ts";
import * as keyChains from "./key-chains.ts";
import * as namespaceConfig from "./namespace-config.ts";
import * as offsetTracker from "./offset-tracker.ts";
import * as retryPolicy from "./retry-policy.ts";
import * as schemaCompatibility from "./schema-compatibility.ts";
import * as target from "./target.ts";
import * as timedLanes from "./timed-lanes.ts";
import * as topics from "./topics.ts";
import * as trilean from "./trilean.ts";
import * as writeRequest from "./write-request.ts";

describe("core index", () => {
  it("re-exports every runtime value of the core modules, unchanged", () => {
    const modules: Record<string, Record<string, unknown>> = {
      backoff,
      deadLetter,
      durations,
      envelope,
      errors,
      keyChains,
      namespaceConfig,
      offsetTracker,
      retryPolicy,
      schemaCompatibility,
      target,
      timedLanes,
      topics,
      trilean,
      writeRequest,
    };
    const exported = core as Record<string, unknown>;
    for (const [name, module] of Object.entries(modules)) {
      for (const [binding, value] of Object.entries(module)) {
        assert.ok(binding in exported, `${name}.${binding} is not exported by index.ts`);
        assert.equal(exported[binding], value, `${name}.${binding}`);
      }
    }
  });
});
