import { setTimeout as sleep } from "node:timers/promises";
import type { Kafka } from "kafkajs";
import {
  createIdempotentProducer,
  RecyclingProducer,
  readWholeTopic,
} from "../adapters/kafka/index.ts";
import {
  type DeadLetter,
  type DeadLetterFilter,
  deadLetterOf,
  decodeEntry,
  encodeEntry,
  matchesFilter,
  type RedriveLog,
  type RedriveRecord,
  redriveToken,
  topicNames,
  type WalEntry,
  walHeaders,
} from "../core/index.ts";
import type { Logger } from "../observability/index.ts";

export interface DeadLetterServiceOptions {
  kafka: Kafka;
  audit: RedriveLog;
  /** Throws WAL_NAMESPACE_NOT_FOUND for a namespace that does not exist. */
  requireNamespace: (name: string) => Promise<void>;
  logger: Logger;
}

export interface ListedDeadLetter extends DeadLetter {
  /** Already sent back to the log by a redrive. */
  redriven: boolean;
}

export interface RedriveRequest {
  filter: DeadLetterFilter;
  dryRun: boolean;
  /** Entries appended per second at most. */
  ratePerSecond: number;
  /** Also take records an earlier redrive already took. */
  includeRedriven: boolean;
  actor: string;
}

export interface RedriveResult {
  matched: number;
  /** Matched but left alone: an earlier redrive took them. */
  skippedAsRedriven: number;
  entryIds: string[];
  dryRun: boolean;
  audit: RedriveRecord;
}

/**
 * The DLQ tools: list and show dead letters with their reason, attempts and
 * trace; redrive them (all, by filter or by id) back to the namespace's log,
 * paced, audited, keeping each entry's id so targets apply it once.
 *
 * A redriven entry is a new log record: it gets a fresh attempt budget (its
 * history stays in the DLQ record) with its deadline counted from the
 * redrive, no delay or time to live, and its key's place in line is after
 * everything written before the redrive.
 */
export class DeadLetterService {
  private readonly producer: RecyclingProducer;

  constructor(private readonly options: DeadLetterServiceOptions) {
    this.producer = new RecyclingProducer(() => createIdempotentProducer(options.kafka));
  }

  async list(namespace: string, filter: DeadLetterFilter): Promise<ListedDeadLetter[]> {
    await this.options.requireNamespace(namespace);
    const { records, redriven } = await this.load(namespace);
    return records
      .filter(({ letter }) => matchesFilter(letter, filter))
      .map(({ letter }) => ({ ...letter, redriven: redriven.has(redriveToken(letter)) }));
  }

  /** DLQ entries of a namespace the caller knows exists that were not redriven (the depth gauge). */
  async waiting(namespace: string): Promise<number> {
    const { records, redriven } = await this.load(namespace);
    return records.filter(({ letter }) => !redriven.has(redriveToken(letter))).length;
  }

  /** The namespace's DLQ records and the redrive tokens of those already redriven. */
  private async load(namespace: string) {
    const [records, redriven] = await Promise.all([
      this.read(namespace),
      this.options.audit.redriven(namespace),
    ]);
    return { records, redriven };
  }

  async redrive(namespace: string, request: RedriveRequest): Promise<RedriveResult> {
    await this.options.requireNamespace(namespace);
    const { records, redriven } = await this.load(namespace);
    const matched = records.filter(({ letter }) => matchesFilter(letter, request.filter));
    const chosen = matched.filter(
      ({ letter }) => request.includeRedriven || !redriven.has(redriveToken(letter)),
    );
    let audit: RedriveRecord;
    if (request.dryRun) {
      audit = await this.recordAudit(namespace, request, chosen);
    } else {
      // Audited even when an append fails part way: the record says what did go back.
      const sent: typeof chosen = [];
      const started = Date.now();
      try {
        for (const [i, record] of chosen.entries()) {
          const wait = started + (i * 1_000) / request.ratePerSecond - Date.now();
          if (wait > 0) await sleep(wait);
          await this.append(namespace, record.entry, record.letter, record.headers);
          sent.push(record);
        }
      } finally {
        audit = await this.recordAudit(namespace, request, sent);
      }
    }
    this.options.logger.info(
      { namespace, actor: request.actor, dryRun: request.dryRun, count: chosen.length },
      "dead letters redriven",
    );
    return {
      matched: matched.length,
      skippedAsRedriven: matched.length - chosen.length,
      entryIds: chosen.map(({ letter }) => letter.entryId),
      dryRun: request.dryRun,
      audit,
    };
  }

  history(namespace: string): Promise<RedriveRecord[]> {
    return this.options.audit.list(namespace);
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }

  private recordAudit(
    namespace: string,
    request: RedriveRequest,
    taken: { letter: DeadLetter }[],
  ): Promise<RedriveRecord> {
    return this.options.audit.record({
      namespace,
      actor: request.actor,
      filter: request.filter,
      dryRun: request.dryRun,
      entryIds: taken.map(({ letter }) => letter.entryId),
      records: taken.map(({ letter }) => redriveToken(letter)),
    });
  }

  private async read(
    namespace: string,
  ): Promise<{ letter: DeadLetter; entry: WalEntry; headers: Record<string, string> }[]> {
    const records = await readWholeTopic(this.options.kafka, topicNames.deadLetter(namespace));
    return records.map((record) => {
      const entry = decodeEntry(record.value);
      return {
        entry,
        headers: record.headers,
        letter: deadLetterOf(entry, record.headers, record),
      };
    });
  }

  private append(
    namespace: string,
    entry: WalEntry,
    letter: DeadLetter,
    headers: Record<string, string>,
  ): Promise<void> {
    // A fresh budget: no attempts, and the deadline counts from the redrive.
    const fresh: WalEntry = {
      ...entry,
      createdAtMs: Date.now(),
      attempts: [],
      lifecycle: { dueAtMs: null, expiresAtMs: null },
    };
    return this.producer.sendBatch({
      topicMessages: [
        {
          topic: topicNames.log(namespace),
          messages: [
            {
              key: entry.key,
              value: encodeEntry(fresh),
              headers: {
                ...(headers.traceparent === undefined ? {} : { traceparent: headers.traceparent }),
                [walHeaders.entryId]: entry.id,
                [walHeaders.attempt]: "0",
                [walHeaders.redrivenFrom]: letter.position,
              },
            },
          ],
        },
      ],
    });
  }
}
