import type { TestContext } from "node:test";
import { WalClient } from "../../services/client/index.ts";
import type { NamespaceConfigInput } from "../../services/core/index.ts";
import { dropNamespace } from "./kafka.ts";
import { webhookNamespace } from "./namespaces.ts";
import { uniqueName } from "./servers.ts";
import {
  startGateway,
  startProcessor,
  type WalProcess,
  writeNamespacesFile,
} from "./wal-process.ts";
import { WebhookReceiver } from "./webhook-receiver.ts";

/** Processors that give up a dead member's partitions quickly. */
const processorEnv = { WAL_SESSION_TIMEOUT_MS: "6000" };

/**
 * A namespace (3 partitions) delivering to a webhook receiver, a gateway and
 * a client; processors start on demand. Everything is torn down after the test.
 */
export async function webhookFixture(
  t: TestContext,
  prefix: string,
  overrides: Partial<NamespaceConfigInput> = {},
  gatewayEnv: Record<string, string> = {},
) {
  const namespace = uniqueName(prefix);
  const receiver = await WebhookReceiver.start();
  const file = await writeNamespacesFile([
    { ...webhookNamespace(namespace, receiver.url, 3), ...overrides },
  ]);
  const gateway = await startGateway(file.path, gatewayEnv);
  const client = new WalClient(gateway.grpc);
  const processors: WalProcess[] = [];
  t.after(async () => {
    client.close();
    await Promise.all([gateway.process.stop(), ...processors.map((p) => p.stop())]);
    await receiver.close();
    await dropNamespace(namespace);
    await file.remove();
  });
  const startOne = async () => {
    const processor = await startProcessor(file.path, 1, processorEnv);
    processors.push(processor);
    return processor;
  };
  return {
    namespace,
    receiver,
    client,
    startOne,
    gatewayAddress: gateway.grpc,
    gatewayHttp: gateway.http,
  };
}
