import type { Kafka } from "kafkajs";
import { headersOf } from "./headers.ts";

export interface StoredRecord {
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: string;
}

/** Where each partition's read starts: an offset per partition, or a time (ms since the epoch). */
export type ReadStart = { offsets: Map<number, bigint> } | { timeMs: number } | "earliest";

/**
 * Reads a topic's committed records from `start` up to each partition's end
 * as it was when called, handing them to `handle` one at a time in partition
 * order (partitions interleave). Uses a throwaway consumer group, deleted
 * afterwards. For admin tools (DLQ, replay), not for the data path.
 */
export async function readTopicRange(
  kafka: Kafka,
  topic: string,
  start: ReadStart,
  handle: (record: StoredRecord) => Promise<void>,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `wal-reader-${crypto.randomUUID()}`;
  try {
    const bounds = await admin.fetchTopicOffsets(topic);
    const from = new Map<number, bigint>();
    if (start === "earliest") {
      for (const p of bounds) from.set(p.partition, BigInt(p.low));
    } else if ("offsets" in start) {
      for (const p of bounds)
        from.set(p.partition, start.offsets.get(p.partition) ?? BigInt(p.high));
    } else {
      for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, start.timeMs)) {
        const at = BigInt(p.offset);
        const end = BigInt(bounds.find((b) => b.partition === p.partition)?.high ?? "0");
        from.set(p.partition, at < 0n ? end : at);
      }
    }
    const remaining = new Map<number, bigint>();
    for (const p of bounds) {
      const low = BigInt(p.low);
      const begin = (from.get(p.partition) ?? low) < low ? low : (from.get(p.partition) as bigint);
      from.set(p.partition, begin);
      if (BigInt(p.high) > begin) remaining.set(p.partition, BigInt(p.high));
    }
    if (remaining.size === 0) return;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${topic} took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
        const reached = (partition: number, next: bigint) => {
          const end = remaining.get(partition);
          if (end !== undefined && next >= end) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        };
        // Batches of only transaction markers reach no handler, but do end a batch.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
          reached(payload.partition, BigInt(payload.lastOffset) + 1n),
        );
        // A rejoin restarts fetching from the group's (never committed) offsets: seek to where
        // this read has got to, and skip anything below it, so no record is handed over twice.
        consumer.on(consumer.events.GROUP_JOIN, () => {
          for (const [partition, offset] of from) {
            consumer.seek({ topic, partition, offset: offset.toString() });
          }
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch, resolveOffset }) => {
              const end = remaining.get(batch.partition);
              const begin = from.get(batch.partition) ?? 0n;
              for (const m of batch.messages) {
                const offset = BigInt(m.offset);
                if (end === undefined || offset >= end || offset < begin) continue;
                from.set(batch.partition, offset + 1n);
                await handle({
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key?.toString() ?? "",
                  value: m.value ?? Buffer.alloc(0),
                  headers: headersOf(m.headers),
                  timestamp: m.timestamp,
                });
                resolveOffset(m.offset);
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Every committed record of a topic as it stands now, in partition and offset order. */
export async function readWholeTopic(kafka: Kafka, topic: string): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  await readTopicRange(kafka, topic, "earliest", async (record) => {
    records.push(record);
  });
  return records.sort((a, b) =>
    a.partition === b.partition
      ? Number(BigInt(a.offset) - BigInt(b.offset))
      : a.partition - b.partition,
  );
}
