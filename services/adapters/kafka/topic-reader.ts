import type { Kafka } from "kafkajs";

export interface StoredRecord {
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Reads every committed record of a topic as it stands now (up to each
 * partition's end when called), through a throwaway consumer group that is
 * deleted afterwards. For admin tools over small topics (the DLQ), not for
 * the data path.
 */
export async function readWholeTopic(
  kafka: Kafka,
  topic: string,
  timeoutMs = 30_000,
): Promise<StoredRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `wal-reader-${crypto.randomUUID()}`;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const remaining = new Map(
      ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
    );
    const records: StoredRecord[] = [];
    if (remaining.size === 0) return records;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${topic} took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
        // Batches of only transaction markers reach no handler, but do end a batch.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = remaining.get(payload.partition);
          if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) {
            remaining.delete(payload.partition);
          }
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = remaining.get(batch.partition);
              for (const m of batch.messages) {
                if (end === undefined || BigInt(m.offset) >= end) continue;
                const headers: Record<string, string> = {};
                for (const [name, value] of Object.entries(m.headers ?? {})) {
                  if (value !== undefined) headers[name] = String(value);
                }
                records.push({
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key?.toString() ?? "",
                  value: m.value ?? Buffer.alloc(0),
                  headers,
                });
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return records.sort((a, b) =>
      a.partition === b.partition
        ? Number(BigInt(a.offset) - BigInt(b.offset))
        : a.partition - b.partition,
    );
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
