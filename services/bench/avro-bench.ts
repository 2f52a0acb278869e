import { randomBytes } from "node:crypto";
import avro from "avsc";
import type { Kafka } from "kafkajs";
import { deleteNamespaceTopics } from "../adapters/kafka/index.ts";
import { RegistryHttp } from "../adapters/schema-registry/index.ts";
import { WalClient, WalProducer } from "../client/index.ts";
import { toWireFormat } from "../core/index.ts";
import { benchNamespacesFile, type SpawnedService, spawnService } from "./spawn.ts";
import { formatTable, loadRow, loadTableHeader, runLoad } from "./stats.ts";

export interface AvroBenchOptions {
  kafka: Kafka;
  kafkaBrokers: string[];
  databaseUrl: string;
  concurrencies: number[];
  writesPerLevel: number;
  /** Characters of the record's free-text field, which sets the payload's size. */
  noteChars: number;
  partitions: number;
}

interface BenchOrder {
  orderId: string;
  amountCents: number;
  note: string;
}

const orderSchema = {
  type: "record",
  name: "BenchOrder",
  namespace: "wal.bench",
  fields: [
    { name: "orderId", type: "string" },
    { name: "amountCents", type: "long" },
    { name: "note", type: "string" },
  ],
};

/**
 * The cost of Avro payloads, in one run on one gateway: the same encoded
 * bytes written to a namespace without a payload subject (opaque, the
 * baseline) and to one whose gateway checks them against the registry
 * (wire format, id, subject, decoding), then the SDK (`WalProducer`:
 * encoding included) writing the same values.
 */
export async function benchAvro(
  options: AvroBenchOptions,
  progress: (line: string) => void,
): Promise<string> {
  const stamp = Date.now().toString(36);
  const opaque = `bench-opaque-${stamp}`;
  const checked = `bench-avro-${stamp}`;
  const subject = `${checked}-value`;
  const sinkTopic = `wal-bench-avro-sink-${stamp}`;
  const sink = { sink: { type: "kafka-topic" as const, topic: sinkTopic } };
  const namespacesFile = await benchNamespacesFile(
    { name: opaque, partitions: options.partitions, targets: sink, defaultTarget: "sink" },
    {
      name: checked,
      partitions: options.partitions,
      targets: sink,
      defaultTarget: "sink",
      payload: { subject },
    },
  );
  const adminToken = randomBytes(24).toString("hex");
  let controlPlane: SpawnedService | undefined;
  let gateway: SpawnedService | undefined;
  let registry: RegistryHttp | undefined;
  let client: WalClient | undefined;
  let producer: WalProducer<BenchOrder> | undefined;
  const rows: string[][] = [];
  try {
    controlPlane = await spawnService(
      ["control-plane", "--port", "0"],
      {
        WAL_DATABASE_URL: options.databaseUrl,
        WAL_ADMIN_TOKEN: adminToken,
        WAL_KAFKA_BROKERS: options.kafkaBrokers.join(","),
      },
      "control plane serving",
    );
    const registryUrl = `http://${String(controlPlane.ready.http)}`;
    registry = new RegistryHttp(registryUrl, { token: adminToken });
    const schemaId = await registry.register(subject, JSON.stringify(orderSchema));
    gateway = await spawnService(
      ["gateway", "--grpc-port", "0", "--http-port", "0"],
      {
        WAL_NAMESPACES_FILE: namespacesFile.path,
        WAL_KAFKA_BROKERS: options.kafkaBrokers.join(","),
        WAL_SCHEMA_REGISTRY_URL: registryUrl,
      },
      "gateway serving",
    );
    const address = String(gateway.ready.grpc);
    const walClient = new WalClient(address);
    client = walClient;
    const sdk = new WalProducer<BenchOrder>({
      gateway: address,
      registryUrl,
      namespace: checked,
      subject,
    });
    producer = sdk;
    const order = (i: number): BenchOrder => ({
      orderId: `order-${i}`,
      amountCents: i * 7,
      note: "n".repeat(options.noteChars),
    });
    const type = avro.Type.forSchema(orderSchema as avro.Schema);
    const encoded = (i: number) => toWireFormat(schemaId, type.toBuffer(order(i)));
    progress(`payload ${encoded(0).length} bytes (schema id ${schemaId})`);
    const rawWrites = (namespace: string) => async (i: number) =>
      (await walClient.write({ namespace, key: `key-${i % 1000}`, payload: encoded(i) }))
        .durable === "TRUE";

    const viaSdk = async (i: number) => {
      await sdk.write(`key-${i % 1000}`, order(i));
      return true;
    };
    // Untimed first: connections, JIT and caches warm for every system alike.
    progress("warming up…");
    for (const warm of [rawWrites(opaque), rawWrites(checked), viaSdk]) {
      await runLoad(Math.min(500, options.writesPerLevel), 16, warm);
    }

    for (const concurrency of options.concurrencies) {
      progress(`concurrency ${concurrency}: opaque…`);
      const plain = await runLoad(options.writesPerLevel, concurrency, rawWrites(opaque));
      rows.push(loadRow("WriteToLog, opaque payload", concurrency, plain));
      progress(`concurrency ${concurrency}: Avro checked by the gateway…`);
      const avroChecked = await runLoad(options.writesPerLevel, concurrency, rawWrites(checked));
      rows.push(loadRow("WriteToLog, Avro checked", concurrency, avroChecked));
      progress(`concurrency ${concurrency}: WalProducer…`);
      const sdkWrites = await runLoad(options.writesPerLevel, concurrency, viaSdk);
      rows.push(loadRow("WalProducer (encode + write)", concurrency, sdkWrites));
    }
  } finally {
    producer?.close();
    client?.close();
    await gateway?.stop();
    await registry?.deleteSubject(subject).catch(() => undefined);
    await controlPlane?.stop();
    await deleteNamespaceTopics(options.kafka, opaque).catch(() => undefined);
    await deleteNamespaceTopics(options.kafka, checked).catch(() => undefined);
    await namespacesFile.remove();
  }
  return formatTable(loadTableHeader, rows);
}
