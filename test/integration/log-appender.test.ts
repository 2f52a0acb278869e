import assert from "node:assert/strict";
import { after, before, describe, it, type TestContext } from "node:test";
import {
  createIdempotentProducer,
  createKafka,
  KafkaLogAppender,
  RecyclingProducer,
} from "../../services/adapters/kafka/index.ts";
import {
  ErrorCode,
  isWalError,
  type LogAppender,
  type LogRecord,
} from "../../services/core/index.ts";
import { createLogger } from "../../services/observability/index.ts";
import { deleteTopicsAndGroups, testKafka } from "../support/kafka.ts";
import { eventually, kafkaBrokers, uniqueName } from "../support/servers.ts";

const logger = createLogger("log-appender-test", "silent");

interface ReadRecord {
  partition: number;
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions }] });
  } finally {
    await admin.disconnect();
  }
}

/** Reads `topic` from the beginning until `count` records arrived; in partition order. */
async function readRecords(topic: string, count: number): Promise<ReadRecord[]> {
  const groupId = uniqueName("wal-appender-reader");
  const consumer = testKafka().consumer({ groupId });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          const first = Array.isArray(value) ? value[0] : value;
          if (first !== undefined) headers[name] = first.toString();
        }
        records.push({
          partition,
          key: message.key?.toString() ?? "",
          value: message.value,
          headers,
        });
      },
    });
    await eventually(`${count} records on ${topic}`, 30_000, async () =>
      records.length >= count ? true : undefined,
    );
  } finally {
    await consumer.disconnect();
    await deleteTopicsAndGroups([], [groupId]);
  }
  return records;
}

async function connectedProducer(): Promise<RecyclingProducer> {
  const kafka = createKafka(
    { brokers: kafkaBrokers, clientId: uniqueName("wal-appender") },
    logger,
  );
  const producer = new RecyclingProducer(() => createIdempotentProducer(kafka));
  await producer.connect();
  return producer;
}

/** A fresh appender over its own producer, closed and disconnected after the test. */
async function newAppender(
  t: TestContext,
): Promise<{ appender: LogAppender; producer: RecyclingProducer }> {
  const producer = await connectedProducer();
  const appender = new KafkaLogAppender(producer);
  t.after(async () => {
    await appender.close();
    await producer.disconnect();
  });
  return { appender, producer };
}

/** An appender for a test that appends to a topic that does not exist. */
async function appenderForMissingTopic(t: TestContext): Promise<LogAppender> {
  const { appender } = await newAppender(t);
  return appender;
}

function hasCode(...codes: string[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isWalError(error), `expected a WalError, got ${String(error)}`);
    assert.ok(codes.includes(error.code), `code ${error.code} is not one of ${codes.join(", ")}`);
    return true;
  };
}

describe("KafkaLogAppender against Kafka", () => {
  const topic = uniqueName("wal-appender");

  before(async () => {
    await createTopic(topic, 4);
  });
  after(async () => {
    await deleteTopicsAndGroups([topic]);
  });

  it("appends a record that reads back with its key, value and headers intact", async (t) => {
    const { appender } = await newAppender(t);
    const record: LogRecord = {
      topic,
      key: uniqueName("key-é"),
      // Bytes that are not valid UTF-8 must survive as they are.
      value: Buffer.from([0, 255, 1, 254, 0xc3, 0x28, 10, 13]),
      headers: { "wal-entry-id": "entry-1", "wal-attempt": "0", traceparent: "00-ab-cd-01" },
    };
    await appender.append(record, 5_000);

    const records = await readRecords(topic, 1);
    const found = records.filter((r) => r.key === record.key);
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]?.value, record.value);
    assert.deepEqual(found[0]?.headers, record.headers);
  });

  it("resolves many concurrent appends and keeps each key's records in call order", async (t) => {
    const orderTopic = uniqueName("wal-appender-order");
    await createTopic(orderTopic, 4);
    t.after(() => deleteTopicsAndGroups([orderTopic]));
    const { appender } = await newAppender(t);

    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const total = 500;
    const appends: Promise<void>[] = [];
    for (let i = 0; i < total; i += 1) {
      const key = keys[i % keys.length] as string;
      appends.push(
        appender.append(
          { topic: orderTopic, key, value: Buffer.from(String(i)), headers: { seq: String(i) } },
          10_000,
        ),
      );
    }
    await Promise.all(appends);

    const records = await readRecords(orderTopic, total);
    assert.equal(records.length, total, "every append is in the log exactly once");
    for (const key of keys) {
      const sequence = records.filter((r) => r.key === key).map((r) => Number(r.value?.toString()));
      const expected = Array.from({ length: total }, (_, i) => i).filter(
        (i) => keys[i % keys.length] === key,
      );
      assert.deepEqual(sequence, expected, `records of ${key} out of call order`);
    }
  });

  it("never resolves an append to a topic that does not exist", async (t) => {
    const missing = uniqueName("wal-appender-missing");
    const appender = await appenderForMissingTopic(t);
    await assert.rejects(
      appender.append({ topic: missing, key: "k", value: Buffer.from("v"), headers: {} }, 2_000),
      hasCode(ErrorCode.logOutcomeUnknown, ErrorCode.logUnavailable),
    );
  });

  it("keeps appending to existing topics after an append to a missing topic failed", async (t) => {
    const missing = uniqueName("wal-appender-missing");
    const appender = await appenderForMissingTopic(t);
    await assert.rejects(
      appender.append({ topic: missing, key: "k", value: Buffer.from("v"), headers: {} }, 2_000),
      hasCode(ErrorCode.logOutcomeUnknown, ErrorCode.logUnavailable),
    );
    // The failed send replaces its producer; appends succeed again once it has.
    await eventually("an append to an existing topic to succeed", 30_000, async () => {
      await appender.append({ topic, key: "k", value: Buffer.from("after"), headers: {} }, 2_000);
      return true;
    });
  });

  it("close() waits for handed-over records, then refuses appends", async (t) => {
    const closeTopic = uniqueName("wal-appender-close");
    await createTopic(closeTopic, 2);
    t.after(() => deleteTopicsAndGroups([closeTopic]));
    const producer = await connectedProducer();
    t.after(() => producer.disconnect());
    const appender = new KafkaLogAppender(producer);

    const count = 50;
    const outcomes: Array<"pending" | "resolved" | "rejected"> = [];
    const appends = Array.from({ length: count }, (_, i) => {
      outcomes[i] = "pending";
      return appender
        .append(
          { topic: closeTopic, key: `k${i % 5}`, value: Buffer.from(String(i)), headers: {} },
          10_000,
        )
        .then(
          () => {
            outcomes[i] = "resolved";
          },
          () => {
            outcomes[i] = "rejected";
          },
        );
    });
    await appender.close();
    assert.deepEqual(
      outcomes,
      Array.from({ length: count }, () => "resolved"),
      "close() returned before every handed-over record was acknowledged",
    );
    await Promise.all(appends);

    await assert.rejects(
      appender.append(
        { topic: closeTopic, key: "k", value: Buffer.from("late"), headers: {} },
        2_000,
      ),
      hasCode(ErrorCode.shuttingDown),
    );
    const records = await readRecords(closeTopic, count);
    assert.equal(records.length, count, "the late append wrote nothing");
  });
});
