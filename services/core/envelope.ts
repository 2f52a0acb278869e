import { readFileSync } from "node:fs";
import avro from "avsc";
import { ErrorCode, WalError } from "./errors.ts";

export type Operation = "UPSERT" | "DELETE";

export interface Attempt {
  atMs: number;
  errorCode: string;
  message: string;
}

/** One log entry, as carried in the value of every WAL topic record. */
export interface WalEntry {
  id: string;
  namespace: string;
  key: string;
  createdAtMs: number;
  lifecycle: { dueAtMs: number | null; expiresAtMs: number | null };
  target: { name: string; operation: Operation; resource: string | null };
  idempotencyKey: string | null;
  attempts: Attempt[];
  originRegion: string | null;
  payload: Buffer;
}

export const envelopeSchemaPath = new URL(
  "../../schemas/avro/wal.v1.WalEntry.avsc",
  import.meta.url,
);

// The schema ships with the code; reading it once at load keeps one source of truth in schemas/.
const envelopeType = avro.Type.forSchema(JSON.parse(readFileSync(envelopeSchemaPath, "utf8")));

export function encodeEntry(entry: WalEntry): Buffer {
  return envelopeType.toBuffer(entry);
}

/** Decodes a record value; a value that is not a WAL envelope is reported, never guessed at. */
export function decodeEntry(value: Buffer): WalEntry {
  try {
    return envelopeType.fromBuffer(value) as WalEntry;
  } catch (cause) {
    throw new WalError(
      ErrorCode.envelopeCorrupt,
      "record value is not a wal.v1.WalEntry Avro envelope; only WAL writes belong on a WAL topic",
      { cause },
    );
  }
}

/** Kafka header names of a WAL record. */
export const walHeaders = {
  entryId: "wal-entry-id",
  attempt: "wal-attempt",
  /** When the entry may next be tried (ms since the epoch). */
  dueAt: "wal-due-at",
  /** When a record of a retry tier has waited its tier's delay. */
  hopUntil: "wal-hop-until",
  /** The entry's offset in the namespace's log: its place in its key's order, and its version. */
  logOffset: "wal-log-offset",
  /** `topic:partition:offset` of the record this copy was made from: one copy per record. */
  copiedFrom: "wal-copied-from",
  deadReason: "wal-dead-reason",
  deadMessage: "wal-dead-message",
  deadAt: "wal-dead-at",
  /** On a redriven entry: the DLQ record (`partition:offset`) it came back from. */
  redrivenFrom: "wal-redriven-from",
  originRegion: "wal-origin-region",
} as const;
