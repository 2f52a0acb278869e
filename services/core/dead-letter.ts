import { type Attempt, type WalEntry, walHeaders } from "./envelope.ts";

/** An entry in a namespace's dead-letter queue, as the DLQ tools show it. */
export interface DeadLetter {
  entryId: string;
  key: string;
  /** Why it is here: a WAL error code (WAL_RETRIES_EXHAUSTED, WAL_ENTRY_EXPIRED, a target's code…). */
  reason: string;
  message: string;
  deadAt: string;
  createdAt: string;
  target: string;
  /** The entry's offset in the namespace's log. */
  logOffset: string;
  /** Where it sits in the DLQ topic: `partition:offset`. */
  position: string;
  attempts: (Attempt & { at: string })[];
  /** The trace of the write that made the entry, when it carried one. */
  traceId: string | null;
  payloadBytes: number;
}

/** Which dead letters a list or a redrive takes; every set field must match. */
export interface DeadLetterFilter {
  ids?: string[];
  key?: string;
  /** The reason code. */
  code?: string;
  /** Dead-lettered at or after (ms since the epoch). */
  fromMs?: number;
  /** Dead-lettered before (ms since the epoch). */
  toMs?: number;
}

export function matchesFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  const deadAtMs = Date.parse(letter.deadAt);
  return (
    (filter.ids === undefined || filter.ids.includes(letter.entryId)) &&
    (filter.key === undefined || filter.key === letter.key) &&
    (filter.code === undefined || filter.code === letter.reason) &&
    (filter.fromMs === undefined || deadAtMs >= filter.fromMs) &&
    (filter.toMs === undefined || deadAtMs < filter.toMs)
  );
}

/** The trace id of a W3C `traceparent` header, or null. */
export function traceIdOf(traceparent: string | undefined): string | null {
  const match = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent ?? "");
  return match?.[1] ?? null;
}

/** The dead letter a DLQ record holds, from its entry and headers. */
export function deadLetterOf(
  entry: WalEntry,
  headers: Record<string, string>,
  position: { partition: number; offset: string },
): DeadLetter {
  return {
    entryId: entry.id,
    key: entry.key,
    reason: headers[walHeaders.deadReason] ?? "",
    message: headers[walHeaders.deadMessage] ?? "",
    deadAt: new Date(Number(headers[walHeaders.deadAt] ?? 0)).toISOString(),
    createdAt: new Date(entry.createdAtMs).toISOString(),
    target: entry.target.name,
    logOffset: headers[walHeaders.logOffset] ?? "",
    position: `${position.partition}:${position.offset}`,
    attempts: entry.attempts.map((a) => ({ ...a, at: new Date(a.atMs).toISOString() })),
    traceId: traceIdOf(headers.traceparent),
    payloadBytes: entry.payload.length,
  };
}

/** One redrive, as the audit keeps it. */
export interface RedriveRecord {
  id: number;
  namespace: string;
  actor: string;
  at: string;
  filter: DeadLetterFilter;
  dryRun: boolean;
  entryIds: string[];
  /** DLQ records taken, as `partition:offset/entry-id`. */
  records: string[];
}

/** Where redrives are audited (the control plane's database). */
export interface RedriveLog {
  record(redrive: Omit<RedriveRecord, "id" | "at">): Promise<RedriveRecord>;
  /** The DLQ records of the namespace already redriven (not dry runs), as `partition:offset/entry-id`. */
  redriven(namespace: string): Promise<Set<string>>;
  list(namespace: string): Promise<RedriveRecord[]>;
}

/** How the audit names a DLQ record: its place and its entry, so a recreated topic cannot alias it. */
export function redriveToken(letter: Pick<DeadLetter, "position" | "entryId">): string {
  return `${letter.position}/${letter.entryId}`;
}
