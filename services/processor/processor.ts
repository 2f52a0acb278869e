import type { Kafka } from "kafkajs";
import {
  ensureNamespaceTopics,
  type FetchedRecord,
  KafkaLogConsumer,
  type PartitionWork,
} from "../adapters/kafka/index.ts";
import {
  decodeEntry,
  KeyedActors,
  type NamespaceConfig,
  type NamespaceSource,
  type NamespaceUpdate,
  type Target,
  TargetError,
  topicNames,
  type WalEntry,
} from "../core/index.ts";
import { injectTraceContext, type Logger, SpanKind, withSpanFrom } from "../observability/index.ts";
import { TargetRegistry } from "../targets/index.ts";
import { deliverInPlace } from "./deliver.ts";

export interface ProcessorOptions {
  kafka: Kafka;
  namespaces: NamespaceSource;
  /** Only namespaces of this shard are consumed. */
  shard: string;
  logger: Logger;
  /** Partitions of one namespace processed at once. @default 4 */
  partitionsConsumedConcurrently?: number;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /** Called when a namespace's consumer stopped for good; the processor cannot go on. */
  onCrash: (namespace: string, error: unknown) => void;
}

/**
 * Consumes each namespace's log in its consumer group and applies every
 * entry to its target: one actor per key (entries of a key in log order),
 * keys in parallel up to the namespace's bound. Progress is committed only
 * over records whose delivery finished.
 *
 * Namespaces follow their source while running: a new one of this shard
 * starts being consumed, a deleted or paused one (or one moved to another
 * shard) stops after finishing and committing what it had started, a resumed
 * one starts again where it stopped, and a changed config (target, limits,
 * delivery) applies from the next batch on.
 */
export class Processor {
  private readonly consumers = new Map<string, Promise<KafkaLogConsumer>>();
  private readonly targets: TargetRegistry;
  private stopUpdates: (() => void) | undefined;
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProcessorOptions) {
    this.targets = new TargetRegistry(options.kafka, options.logger);
  }

  async start(): Promise<void> {
    // Listen before reading the current namespaces, so no change made while the consumers
    // start is missed; changes queue behind the start and apply one at a time, in order.
    this.stopUpdates = this.options.namespaces.onUpdate((update) => {
      this.changes = this.changes.then(() => this.follow(update));
    });
    const starting = this.changes.then(async () => {
      const namespaces = this.options.namespaces
        .all()
        .map((ns) => ns.config)
        .filter((ns) => this.serves(ns));
      await ensureNamespaceTopics(this.options.kafka, namespaces);
      await Promise.all(namespaces.map((ns) => this.consume(ns.name)));
    });
    this.changes = starting.catch(() => undefined);
    await starting;
  }

  /** Stops fetching, lets in-flight deliveries finish or abort, commits what is done. */
  async stop(): Promise<void> {
    this.stopUpdates?.();
    await this.changes;
    await Promise.all([...this.consumers.keys()].map((name) => this.release(name)));
    await this.targets.close();
  }

  private async follow(update: NamespaceUpdate): Promise<void> {
    try {
      if (update.config === null || !this.serves(update.config)) {
        await this.release(update.name);
      } else if (!this.consumers.has(update.name)) {
        await ensureNamespaceTopics(this.options.kafka, [update.config]);
        await this.consume(update.name);
      }
    } catch (error) {
      this.options.logger.error(
        { err: error, namespace: update.name, version: update.version },
        "could not follow a namespace change; it applies when the processor restarts",
      );
    }
  }

  /** Whether this processor delivers the namespace now: its shard, and not paused. */
  private serves(ns: NamespaceConfig): boolean {
    return ns.shard === this.options.shard && !ns.paused;
  }

  private consume(name: string): Promise<KafkaLogConsumer> {
    const consumer = new KafkaLogConsumer(
      this.options.kafka,
      {
        groupId: topicNames.processorGroup(name),
        topic: topicNames.log(name),
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
        sessionTimeoutMs: this.options.sessionTimeoutMs ?? 30_000,
        onCrash: (error) => this.options.onCrash(name, error),
      },
      this.options.logger,
    );
    const started = consumer
      .start((records, work) => this.processBatch(name, records, work))
      .then(
        () => {
          this.options.logger.info(
            { namespace: name, topic: topicNames.log(name) },
            "processor consuming",
          );
          return consumer;
        },
        (error: unknown) => {
          // Forget a consumer that never started, so the next change of the namespace tries again.
          if (this.consumers.get(name) === started) this.consumers.delete(name);
          throw error;
        },
      );
    this.consumers.set(name, started);
    return started;
  }

  private async release(name: string): Promise<void> {
    const consumer = this.consumers.get(name);
    if (consumer === undefined) return;
    this.consumers.delete(name);
    const started = await consumer.catch(() => undefined);
    if (started === undefined) return;
    await started.stop();
    this.options.logger.info({ namespace: name }, "processor stopped consuming");
  }

  private async processBatch(
    name: string,
    records: FetchedRecord[],
    work: PartitionWork,
  ): Promise<void> {
    const ns = this.options.namespaces.get(name)?.config;
    // Deleted, paused or moved to another shard while the batch was fetched: leave its
    // records uncommitted for whoever serves it next.
    if (ns === undefined || !this.serves(ns)) return;
    const actors = new KeyedActors<FetchedRecord>(
      ns.delivery.maxConcurrentKeys,
      (_key, record) => this.processRecord(ns, record, work.signal),
      (_key, record, error) => {
        if (error === undefined) work.complete(record.offset);
        else if (!work.signal.aborted) {
          this.options.logger.error(
            { err: error, namespace: ns.name, partition: record.partition, offset: record.offset },
            "delivery stopped without completing; the entry will be redelivered",
          );
        }
      },
    );
    for (const record of records) actors.submit(record.key, record);
    await actors.idle();
  }

  /** The adapter of a namespace's target; a name the namespace no longer declares is a permanent failure. */
  private targetOf(ns: NamespaceConfig, name: string): Promise<Target> {
    const config = Object.hasOwn(ns.targets, name) ? ns.targets[name] : undefined;
    if (config === undefined) {
      throw new TargetError(
        "permanent",
        `target '${name}' is not declared by namespace '${ns.name}'; declare it again to deliver this entry`,
      );
    }
    return this.targets.get(config);
  }

  private async processRecord(
    ns: NamespaceConfig,
    record: FetchedRecord,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    const log = this.options.logger;
    const where = { namespace: ns.name, partition: record.partition, offset: record.offset };
    // A record this processor cannot decode (corrupt, or written by a newer version) is held,
    // not skipped: committing past it would drop an acknowledged entry.
    let entry: WalEntry | undefined;
    await deliverInPlace(
      ns,
      async () => {
        entry = decodeEntry(record.value);
      },
      signal,
      (failure) =>
        log.error(
          { ...where, ...failure },
          `cannot decode the record, holding it: ${failure.message}`,
        ),
    );
    const decoded = entry as WalEntry;
    if (decoded.lifecycle.expiresAtMs !== null && decoded.lifecycle.expiresAtMs < Date.now()) {
      log.warn(
        { ...where, entry_id: decoded.id, key: decoded.key },
        "entry expired before delivery; not applied",
      );
      return;
    }
    const position = { partition: record.partition, version: BigInt(record.offset) };

    await withSpanFrom(
      record.headers,
      "wal.deliver",
      SpanKind.CONSUMER,
      { "wal.entry_id": decoded.id, "wal.namespace": ns.name, "wal.target": decoded.target.name },
      async () => {
        const startedAt = Date.now();
        await deliverInPlace(
          ns,
          async () => {
            // The latest config: a target fixed by an admin applies to the entry being retried.
            const latest = this.options.namespaces.get(ns.name)?.config ?? ns;
            const target = await this.targetOf(latest, decoded.target.name);
            await target.apply({ entry: decoded, ...position, traceHeaders: injectTraceContext() });
          },
          signal,
          (failure) =>
            log.warn(
              {
                ...where,
                entry_id: decoded.id,
                key: decoded.key,
                target: decoded.target.name,
                ...failure,
              },
              `delivery failed: ${failure.message}; retrying in place`,
            ),
        );
        log.debug(
          { ...where, entry_id: decoded.id, key: decoded.key, latency_ms: Date.now() - startedAt },
          "delivered",
        );
      },
    );
  }
}
