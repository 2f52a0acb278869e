import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import {
  avro,
  type RunningRegistry,
  registryAdminToken,
  startRegistry,
} from "../support/registry.ts";
import { uniqueName } from "../support/servers.ts";

const mediaType = "application/vnd.schemaregistry.v1+json";

const user = {
  type: "record",
  name: "User",
  namespace: "test.registry",
  fields: [
    { name: "id", type: "string" },
    { name: "age", type: "int" },
  ],
};
const withField = (field: { name: string; type: unknown; default?: unknown }, base = user) => ({
  ...base,
  fields: [...base.fields, field],
});

interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
}

/** One raw call of the registry API, as any HTTP client makes it. */
async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { accept: mediaType };
  if (body !== undefined) headers["content-type"] = mediaType;
  if (token !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`wal:${token}`).toString("base64")}`;
  }
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: text === "" ? undefined : JSON.parse(text),
  };
}

/**
 * The behaviour producers and CI rely on, through @kafkajs/confluent-schema-registry
 * and raw HTTP: what Confluent's documentation specifies for paths, status codes
 * and error codes.
 */
function conformance(name: string, start: () => Promise<{ url: string; stop(): Promise<void> }>) {
  describe(`schema registry API: ${name}`, () => {
    let url: string;
    let stop: () => Promise<void>;
    let client: SchemaRegistry;
    const subject = uniqueName("users-value");
    const write = (method: string, path: string, body?: unknown) =>
      call(url, method, path, body, registryAdminToken);

    before(async () => {
      ({ url, stop } = await start());
      client = new SchemaRegistry({
        host: url,
        auth: { username: "wal", password: registryAdminToken },
        retry: { retries: 0 },
      });
    });

    after(() => stop());

    it("registers a schema through the client, serves it by id, and round-trips a value", async () => {
      const { id } = await client.register(avro(user), { subject });
      assert.ok(Number.isInteger(id) && id > 0);
      assert.equal(await client.getLatestSchemaId(subject), id);
      assert.equal(await client.getRegistryIdBySchema(subject, avro(user)), id);
      const encoded = await client.encode(id, { id: "u1", age: 42 });
      assert.equal(encoded[0], 0, "magic byte");
      assert.equal(encoded.readInt32BE(1), id, "schema id after the magic byte");
      assert.deepEqual({ ...(await client.decode(encoded)) }, { id: "u1", age: 42 });

      const byId = await call(url, "GET", `/schemas/ids/${id}`);
      assert.equal(byId.status, 200);
      assert.equal(byId.contentType, mediaType);
      assert.deepEqual(JSON.parse((byId.body as { schema: string }).schema), user);
      const latest = await call(url, "GET", `/subjects/${subject}/versions/latest`);
      assert.deepEqual(
        { ...(latest.body as object), schema: undefined },
        { subject, version: 1, id, schema: undefined },
      );
      assert.deepEqual((await call(url, "GET", `/subjects/${subject}/versions`)).body, [1]);
      assert.ok(((await call(url, "GET", "/subjects")).body as string[]).includes(subject));
    });

    it("answers the same id for the same schema, under the subject and under another", async () => {
      const first = await client.getLatestSchemaId(subject);
      const again = await write("POST", `/subjects/${subject}/versions`, {
        schema: JSON.stringify(user),
      });
      assert.deepEqual(again.body, { id: first });
      assert.deepEqual((await call(url, "GET", `/subjects/${subject}/versions`)).body, [1]);
      const other = uniqueName("other-value");
      const elsewhere = await write("POST", `/subjects/${other}/versions`, {
        schema: JSON.stringify(user),
      });
      assert.deepEqual(elsewhere.body, { id: first });
    });

    it("takes a field added with a default under BACKWARD as version 2", async () => {
      const evolved = withField({ name: "email", type: ["null", "string"], default: null });
      const { id } = await client.register(avro(evolved), { subject });
      assert.equal(await client.getLatestSchemaId(subject), id);
      assert.deepEqual((await call(url, "GET", `/subjects/${subject}/versions`)).body, [1, 2]);
      const v2 = await call(url, "GET", `/subjects/${subject}/versions/2`);
      assert.equal((v2.body as { id: number }).id, id);
    });

    it("refuses a field added without a default under BACKWARD with 409, keeping the versions", async () => {
      const latest = await client.getLatestSchemaId(subject);
      const broken = withField({ name: "country", type: "string" });
      await assert.rejects(client.register(avro(broken), { subject }), (error: unknown) => {
        assert.equal((error as { status?: number }).status, 409);
        return true;
      });
      const answer = await write("POST", `/subjects/${subject}/versions`, {
        schema: JSON.stringify(broken),
      });
      assert.equal(answer.status, 409);
      assert.equal((answer.body as { error_code: number }).error_code, 409);
      assert.equal(await client.getLatestSchemaId(subject), latest);
    });

    it("refuses a changed field type and, under FULL, a removed field", async () => {
      const retyped = { ...user, fields: [user.fields[0], { name: "age", type: "string" }] };
      const typeChange = await write("POST", `/subjects/${subject}/versions`, {
        schema: JSON.stringify(retyped),
      });
      assert.equal(typeChange.status, 409);

      const fullSubject = uniqueName("full-value");
      const withDefault = withField({ name: "tier", type: "string", default: "free" });
      assert.equal(
        (
          await write("POST", `/subjects/${fullSubject}/versions`, {
            schema: JSON.stringify(withDefault),
          })
        ).status,
        200,
      );
      const level = await write("PUT", `/config/${fullSubject}`, { compatibility: "FULL" });
      assert.deepEqual(level.body, { compatibility: "FULL" });
      assert.deepEqual((await call(url, "GET", `/config/${fullSubject}`)).body, {
        compatibilityLevel: "FULL",
      });
      // Without `age` (no default), readers of the old schema cannot read new data.
      const removed = {
        ...withDefault,
        fields: withDefault.fields.filter((f) => f.name !== "age"),
      };
      const check = await call(
        url,
        "POST",
        `/compatibility/subjects/${fullSubject}/versions/latest`,
        { schema: JSON.stringify(removed) },
      );
      assert.equal(check.status, 200);
      assert.equal((check.body as { is_compatible: boolean }).is_compatible, false);
      const refused = await write("POST", `/subjects/${fullSubject}/versions`, {
        schema: JSON.stringify(removed),
      });
      assert.equal(refused.status, 409);
      // Removing the field that has a default is fine under FULL.
      const withoutTier = await call(
        url,
        "POST",
        `/compatibility/subjects/${fullSubject}/versions/latest`,
        { schema: JSON.stringify(user) },
      );
      assert.deepEqual(withoutTier.body, { is_compatible: true });
    });

    it("answers Confluent's error codes for what is not there or not valid", async () => {
      const missing = uniqueName("missing-value");
      const cases: Array<[Promise<Answer>, number, number]> = [
        [call(url, "GET", `/subjects/${missing}/versions`), 404, 40401],
        [call(url, "GET", `/subjects/${missing}/versions/latest`), 404, 40401],
        [call(url, "GET", `/subjects/${subject}/versions/99`), 404, 40402],
        [call(url, "GET", "/schemas/ids/987654"), 404, 40403],
        [
          call(url, "POST", `/subjects/${subject}`, {
            schema: JSON.stringify({ type: "record", name: "Nope", fields: [] }),
          }),
          404,
          40403,
        ],
        [
          write("POST", `/subjects/${subject}/versions`, { schema: '{"type":"recrd"}' }),
          422,
          42201,
        ],
        [write("POST", `/subjects/${subject}/versions`, { schema: "not json" }), 422, 42201],
        [write("PUT", "/config", { compatibility: "SIDEWAYS" }), 422, 42203],
        [write("PUT", `/config/${subject}`, { compatibility: "SIDEWAYS" }), 422, 42203],
        [call(url, "GET", `/subjects/${subject}/versions/zero`), 422, 42202],
      ];
      for (const [answer, status, errorCode] of cases) {
        const { status: got, body } = await answer;
        assert.equal(got, status, JSON.stringify(body));
        assert.equal((body as { error_code: number }).error_code, errorCode, JSON.stringify(body));
        assert.equal(typeof (body as { message: unknown }).message, "string");
      }
    });

    it("keeps a global level and a subject's own", async () => {
      const global = await call(url, "GET", "/config");
      assert.equal(global.status, 200);
      assert.deepEqual(global.body, { compatibilityLevel: "BACKWARD" });
      const fresh = uniqueName("level-value");
      await write("POST", `/subjects/${fresh}/versions`, { schema: JSON.stringify(user) });
      assert.equal((await call(url, "GET", `/config/${fresh}`)).status, 404);
      await write("PUT", `/config/${fresh}`, { compatibility: "NONE" });
      // Under NONE anything goes, even an unrelated schema.
      const unrelated = await write("POST", `/subjects/${fresh}/versions`, {
        schema: JSON.stringify({
          type: "record",
          name: "Other",
          fields: [{ name: "x", type: "long" }],
        }),
      });
      assert.equal(unrelated.status, 200);
      assert.deepEqual((await call(url, "GET", `/subjects/${fresh}/versions`)).body, [1, 2]);
    });
  });
}

conformance("WAL control plane", async () => {
  const registry: RunningRegistry = await startRegistry("registry_api");
  return registry;
});

describe("schema registry API: WAL control plane only", () => {
  let registry: RunningRegistry;

  before(async () => {
    registry = await startRegistry("registry_own");
  });

  after(() => registry.stop());

  /** Registers a schema with the admin token. */
  const register = (subject: string, schema: object) =>
    call(
      registry.url,
      "POST",
      `/subjects/${subject}/versions`,
      { schema: JSON.stringify(schema) },
      registryAdminToken,
    );

  it("needs the admin token to change the registry, and serves reads without it", async () => {
    const subject = uniqueName("auth-value");
    const anonymous = await call(registry.url, "POST", `/subjects/${subject}/versions`, {
      schema: JSON.stringify(user),
    });
    assert.equal(anonymous.status, 401);
    assert.equal((anonymous.body as { error_code: number }).error_code, 401);
    assert.match((anonymous.body as { message: string }).message, /admin token/);
    const wrong = await call(
      registry.url,
      "PUT",
      "/config",
      { compatibility: "NONE" },
      "wrong-token-0123456789",
    );
    assert.equal(wrong.status, 401);
    const registered = await register(subject, user);
    assert.equal(registered.status, 200);
    assert.equal((await call(registry.url, "GET", `/subjects/${subject}/versions`)).status, 200);
  });

  it("explains an incompatible schema by field and rule", async () => {
    const subject = uniqueName("explain-value");
    const post = (schema: object) => register(subject, schema);
    await post(user);
    const refused = await post(withField({ name: "country", type: "string" }));
    assert.equal(refused.status, 409);
    assert.match(
      (refused.body as { message: string }).message,
      /backward.*no matching field for default-less test\.registry\.User\.country/,
    );
    const verbose = await call(
      registry.url,
      "POST",
      `/compatibility/subjects/${subject}/versions/latest?verbose=true`,
      {
        schema: JSON.stringify({
          ...user,
          fields: [user.fields[0], { name: "age", type: "string" }],
        }),
      },
    );
    assert.equal((verbose.body as { is_compatible: boolean }).is_compatible, false);
    assert.match(
      (verbose.body as { messages: string[] }).messages.join("\n"),
      /cannot read "int" as "string"/,
    );
  });

  it("gives concurrent registrations of compatible schemas distinct versions in order", async () => {
    const subject = uniqueName("race-value");
    const schemas = [1, 2, 3, 4, 5].map((n) =>
      withField({ name: `extra${n}`, type: "int", default: n }),
    );
    const answers = await Promise.all(schemas.map((schema) => register(subject, schema)));
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const versions = await call(registry.url, "GET", `/subjects/${subject}/versions`);
    assert.deepEqual(versions.body, [1, 2, 3, 4, 5]);
    const ids = new Set(answers.map((a) => (a.body as { id: number }).id));
    assert.equal(ids.size, 5);
  });

  it("gives one id to a new schema registered under several subjects at once, however long", async () => {
    const documented = {
      ...user,
      name: uniqueName("Long").replaceAll("-", "_"),
      doc: "x".repeat(5_000),
    };
    const subjects = [1, 2, 3, 4, 5].map((n) => uniqueName(`same-${n}-value`));
    const answers = await Promise.all(subjects.map((subject) => register(subject, documented)));
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(new Set(answers.map((a) => (a.body as { id: number }).id)).size, 1);
  });

  it("soft-deletes a version, then deletes it permanently", async () => {
    const subject = uniqueName("delete-value");
    const post = (schema: object) => register(subject, schema);
    await post(user);
    await post(withField({ name: "note", type: "string", default: "" }));
    const admin = (method: string, path: string) =>
      call(registry.url, method, path, undefined, registryAdminToken);
    assert.equal(
      (
        (await admin("DELETE", `/subjects/${subject}/versions/1?permanent=true`)).body as {
          error_code: number;
        }
      ).error_code,
      40407,
    );
    assert.equal((await admin("DELETE", `/subjects/${subject}/versions/1`)).body, 1);
    assert.deepEqual((await call(registry.url, "GET", `/subjects/${subject}/versions`)).body, [2]);
    assert.deepEqual(
      (await call(registry.url, "GET", `/subjects/${subject}/versions?deleted=true`)).body,
      [1, 2],
    );
    assert.equal((await admin("DELETE", `/subjects/${subject}/versions/1?permanent=true`)).body, 1);
    assert.deepEqual(
      (await call(registry.url, "GET", `/subjects/${subject}/versions?deleted=true`)).body,
      [2],
    );
  });
});
