import { setTimeout as sleep } from "node:timers/promises";
import type { Kafka } from "kafkajs";
import { type ReadStart, readTopicRange } from "../adapters/kafka/index.ts";
import {
  decodeEntry,
  describeError,
  ErrorCode,
  type NamespaceConfig,
  topicNames,
  WalError,
} from "../core/index.ts";
import type { Logger } from "../observability/index.ts";
import { TargetRegistry } from "../targets/index.ts";

export interface ReplayRequest {
  kafka: Kafka;
  namespace: NamespaceConfig;
  start: Exclude<ReadStart, "earliest">;
  /** Entry ids left out (the bad write being repaired). */
  skip: Set<string>;
  /** Count what would be applied, apply nothing. */
  dryRun: boolean;
  /** Entries applied per second at most. */
  ratePerSecond: number;
  logger: Logger;
}

export interface ReplayResult {
  namespace: string;
  /** Entries read from the log, from the start to its end when the replay began. */
  read: number;
  applied: number;
  skipped: number;
  /** Entries past their time to live, left out as delivery would. */
  expired: number;
  /** Entries the target refused after the attempts; named so they can be looked at. */
  failed: { entryId: string; partition: number; offset: string; error: string }[];
  dryRun: boolean;
}

const attemptsPerEntry = 3;

/**
 * Re-applies a namespace's log to its targets, from a time or from offsets up
 * to the log's end when the replay began, in log order, skipping the entries
 * named: to repair a target after a bad write or a restore. Each entry goes
 * with its id and its log position (version), so a target that kept newer
 * state (memcached's versions) keeps it, and one that lost it gets it back.
 * Runs beside the processors; it does not touch their offsets, tiers or DLQ.
 */
export async function replayLog(request: ReplayRequest): Promise<ReplayResult> {
  const { namespace: ns, logger } = request;
  const targets = new TargetRegistry(request.kafka, logger);
  const result: ReplayResult = {
    namespace: ns.name,
    read: 0,
    applied: 0,
    skipped: 0,
    expired: 0,
    failed: [],
    dryRun: request.dryRun,
  };
  const started = Date.now();
  try {
    await readTopicRange(
      request.kafka,
      topicNames.log(ns.name),
      request.start,
      async (record) => {
        result.read += 1;
        const entry = decodeEntry(record.value);
        if (request.skip.has(entry.id)) {
          result.skipped += 1;
          return;
        }
        if (entry.lifecycle.expiresAtMs !== null && entry.lifecycle.expiresAtMs < Date.now()) {
          result.expired += 1;
          return;
        }
        if (request.dryRun) {
          result.applied += 1;
          return;
        }
        const wait = started + (result.applied * 1_000) / request.ratePerSecond - Date.now();
        if (wait > 0) await sleep(wait);
        const config = Object.hasOwn(ns.targets, entry.target.name)
          ? ns.targets[entry.target.name]
          : undefined;
        let lastError: unknown;
        for (let attempt = 1; attempt <= attemptsPerEntry && config !== undefined; attempt += 1) {
          try {
            const target = await targets.get(config);
            await target.apply({
              entry,
              partition: record.partition,
              version: BigInt(record.offset),
              traceHeaders: {},
            });
            result.applied += 1;
            return;
          } catch (error) {
            lastError = error;
            if (attempt < attemptsPerEntry) await sleep(100 * attempt);
          }
        }
        result.failed.push({
          entryId: entry.id,
          partition: record.partition,
          offset: record.offset,
          error:
            config === undefined
              ? `target '${entry.target.name}' is not declared by the namespace`
              : describeError(lastError),
        });
      },
      10 * 60_000,
    );
  } finally {
    await targets.close();
  }
  return result;
}

/** Parses `--from-offset`: one offset for every partition, or `partition:offset,…`. */
export function parseStartOffsets(text: string, partitions: number): Map<number, bigint> {
  const offsets = new Map<number, bigint>();
  if (/^\d+$/.test(text)) {
    for (let p = 0; p < partitions; p += 1) offsets.set(p, BigInt(text));
    return offsets;
  }
  for (const part of text.split(",")) {
    const match = /^(\d+):(\d+)$/.exec(part.trim());
    if (match === null) {
      throw new WalError(
        ErrorCode.invalidArgument,
        `--from-offset must be an offset for every partition (e.g. 1200) or partition:offset pairs (e.g. 0:1200,3:950), got '${text}'`,
        { field: "--from-offset" },
      );
    }
    offsets.set(Number(match[1]), BigInt(match[2] as string));
  }
  return offsets;
}
