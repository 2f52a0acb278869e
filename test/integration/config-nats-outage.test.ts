import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import { ControlPlaneClient } from "../../services/control-plane/index.ts";
import { dropNamespace } from "../support/kafka.ts";
import { webhookNamespace } from "../support/namespaces.ts";
import { PrivateNatsServer } from "../support/nats.ts";
import { createSchema } from "../support/postgres.ts";
import { eventually, freePort, uniqueName } from "../support/servers.ts";
import { startGateway, startProcessor, WalProcess } from "../support/wal-process.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const hookNamespace = (name: string, url: string) => webhookNamespace(name, url, 1);
const adminToken = "nats-outage-admin-token-0123456789";

describe("gateway and processor started while NATS is down", () => {
  const name = uniqueName("nats-down");
  let nats: PrivateNatsServer;
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let processes: WalProcess[] = [];
  let admin: ControlPlaneClient;
  let client: WalClient;
  let first: WebhookReceiver;
  let second: WebhookReceiver;
  let processor: WalProcess;

  before(async () => {
    nats = new PrivateNatsServer(await freePort());
    schema = await createSchema("nats_down");
    [first, second] = await Promise.all([WebhookReceiver.start(), WebhookReceiver.start()]);
    const env = {
      WAL_DATABASE_URL: schema.url,
      WAL_ADMIN_TOKEN: adminToken,
      WAL_NATS_URL: nats.url,
      WAL_NAMESPACE_SOURCE: "control-plane",
      WAL_SESSION_TIMEOUT_MS: "6000",
    };
    const controlPlane = WalProcess.start(["control-plane", "--port", "0"], env);
    processes.push(controlPlane);
    const serving = await controlPlane.waitForLine((l) => l.msg === "control plane serving");
    admin = new ControlPlaneClient({
      url: `http://${serving.http as string}`,
      adminToken,
      actor: "nats-outage-test",
    });
    await admin.create(hookNamespace(name, first.url));

    const gateway = await startGateway("unused.json", env);
    processor = await startProcessor("unused.json", 1, env);
    processes = [...processes, gateway.process, processor];
    client = new WalClient(gateway.grpc);
  });

  after(async () => {
    client.close();
    await Promise.all(processes.map((p) => p.stop()));
    await nats.stop();
    await Promise.all([first.close(), second.close()]);
    await dropNamespace(name);
    await schema.drop();
  });

  it("serve from the database snapshot, then pick up a change made during the outage once NATS is back", async () => {
    const early = await client.write({ namespace: name, key: "k", payload: "early" });
    assert.equal(early.durable, "TRUE", early.message);
    await eventually("the early entry delivered without NATS", 30_000, async () =>
      first.calls.some((c) => c.entryId === early.id) ? true : undefined,
    );

    // Committed while NATS is down: the announcement is lost, the change is not.
    await admin.update(name, hookNamespace(name, second.url), 1);
    await nats.start();
    await processor.waitForLine(
      (l) => l.msg === "namespace config applied" && l.name === name && l.version === 2,
      60_000,
    );

    const late = await client.write({ namespace: name, key: "k", payload: "late" });
    assert.equal(late.durable, "TRUE", late.message);
    await eventually("the late entry at the new target", 30_000, async () =>
      second.calls.some((c) => c.entryId === late.id) ? true : undefined,
    );
  });
});
