import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileNamespaceSource } from "./file-namespace-source.ts";

describe("fileNamespaceSource", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wal-file-source-"));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the file's namespaces at version 0, defaults filled", async () => {
    const path = join(dir, "namespaces.json");
    const namespaces = ["orders", "users"].map((name) => ({
      name,
      targets: { cache: { type: "memcached", servers: "127.0.0.1:11211" } },
      defaultTarget: "cache",
    }));
    await writeFile(path, JSON.stringify({ namespaces }));
    const source = await fileNamespaceSource(path);
    assert.deepEqual(
      source.all().map((live) => [live.config.name, live.version]),
      [
        ["orders", 0],
        ["users", 0],
      ],
    );
    assert.equal(source.get("orders")?.config.partitions, 6);
    assert.equal(source.get("missing"), undefined);
    const stop = source.onUpdate(() => assert.fail("a file source never updates"));
    stop();
    await source.close();
  });

  it("refuses a file it cannot use, naming it", async () => {
    await assert.rejects(fileNamespaceSource(join(dir, "absent.json")), {
      code: "WAL_INVALID_CONFIG",
      message: /absent\.json/,
    });
  });
});
