import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { RegistryHttp } from "../../services/adapters/schema-registry/index.ts";
import { WalClient, WalProducer } from "../../services/client/index.ts";
import { type RunningRegistry, registryAdminToken, startRegistry } from "../support/registry.ts";
import { eventually, uniqueName } from "../support/servers.ts";
import { runWal } from "../support/wal-process.ts";
import { webhookFixture } from "../support/webhook-fixture.ts";

const run = promisify(execFile);

/** A throwaway CA, a gateway certificate for 127.0.0.1 and a client certificate, made by openssl. */
async function certificates(dir: string) {
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=wal-test-ca",
  );
  const sign = async (name: string, subject: string, extensions: string) => {
    await writeFile(join(dir, `${name}.ext`), extensions);
    await openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    await openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${name}.pem`,
      "-extfile",
      `${name}.ext`,
    );
  };
  await sign(
    "gateway",
    "/CN=localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await sign("client", "/CN=orders-producer", "extendedKeyUsage=clientAuth\n");
  await sign("intruder", "/CN=intruder", "extendedKeyUsage=clientAuth\n");
  const file = (name: string) => readFile(join(dir, name));
  return {
    paths: {
      WAL_TLS_CERT: join(dir, "gateway.pem"),
      WAL_TLS_KEY: join(dir, "gateway.key"),
      WAL_TLS_CLIENT_CA: join(dir, "ca.pem"),
    },
    ca: await file("ca.pem"),
    clientCert: await file("client.pem"),
    clientKey: await file("client.key"),
    intruderCert: await file("intruder.pem"),
    intruderKey: await file("intruder.key"),
  };
}

const order = {
  type: "record",
  name: "TlsOrder",
  fields: [{ name: "orderId", type: "string" }],
};

describe("gateway over mutual TLS, written to by the SDK", () => {
  let dir: string;
  let certs: Awaited<ReturnType<typeof certificates>>;
  let registry: RunningRegistry;
  const subject = uniqueName("tls-value");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wal-tls-"));
    certs = await certificates(dir);
    registry = await startRegistry("gateway_tls");
    await new RegistryHttp(registry.url, { token: registryAdminToken }).register(
      subject,
      JSON.stringify(order),
    );
  });

  after(async () => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("takes writes from a client with a certificate of the CA that the namespace lists, and refuses the others", async (t) => {
    const { namespace, receiver, startOne, gatewayAddress, gatewayHttp } = await webhookFixture(
      t,
      "tls",
      { payload: { subject }, allowedClients: ["orders-producer"] },
      { WAL_SCHEMA_REGISTRY_URL: registry.url, ...certs.paths },
    );
    await startOne();
    /** A producer presenting the given client certificate. */
    const producerWith = (cert: Buffer, key: Buffer) => {
      const producer = new WalProducer<{ orderId: string }>({
        gateway: gatewayAddress,
        registryUrl: registry.url,
        namespace,
        subject,
        tls: { ca: certs.ca, cert, key },
      });
      t.after(() => producer.close());
      return producer;
    };
    const producer = producerWith(certs.clientCert, certs.clientKey);
    const receipt = await producer.write("o-1", { orderId: "o-1" });
    assert.equal(receipt.attempts, 1);
    await eventually("the entry delivered", 30_000, async () =>
      receiver.calls.length >= 1 ? true : undefined,
    );
    assert.equal(receiver.calls[0]?.entryId, receipt.id);

    const strangers: Array<[string, grpc.ChannelCredentials]> = [
      ["a TLS client without a certificate", grpc.credentials.createSsl(certs.ca)],
      ["a plaintext client", grpc.credentials.createInsecure()],
    ];
    for (const [who, credentials] of strangers) {
      const client = new WalClient(gatewayAddress, { credentials, deadlineMs: 3_000 });
      await assert.rejects(
        client.write({ namespace, key: "o-2", payload: Buffer.alloc(0) }),
        (error: grpc.ServiceError) => {
          assert.equal(error.code, grpc.status.UNAVAILABLE, who);
          return true;
        },
      );
      client.close();
    }
    const intruder = producerWith(certs.intruderCert, certs.intruderKey);
    await assert.rejects(intruder.write("o-3", { orderId: "o-3" }), {
      code: "WAL_CLIENT_NOT_ALLOWED",
      message: /client 'intruder' may not write to namespace/,
    });
    const overHttp = await fetch(`${gatewayHttp}/v1/write`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ namespace, key: "o-4", payloadText: "x" }),
    });
    assert.equal(overHttp.status, 403);
    assert.equal(((await overHttp.json()) as { code: string }).code, "WAL_CLIENT_NOT_ALLOWED");
    assert.equal(receiver.calls.length, 1, "nothing else was written");
  });

  it("refuses to start with half a TLS identity, and the SDK with a certificate but no key", async () => {
    const started = await runWal(["gateway", "--grpc-port", "0", "--http-port", "0"], {
      WAL_TLS_CERT: certs.paths.WAL_TLS_CERT,
      WAL_NAMESPACES_FILE: "topology/namespaces.json",
    });
    assert.notEqual(started.code, 0);
    assert.match(
      started.stderr,
      /cannot start: --tls-cert \(WAL_TLS_CERT\) and --tls-key \(WAL_TLS_KEY\) go together/,
    );
    assert.throws(
      () =>
        new WalProducer({
          gateway: "127.0.0.1:1",
          registryUrl: registry.url,
          namespace: "n",
          subject,
          tls: { ca: certs.ca, cert: certs.clientCert },
        }),
      { code: "WAL_INVALID_CONFIG", field: "tls.key" },
    );
  });
});
