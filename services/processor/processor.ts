import type { Meter } from "@opentelemetry/api";
import type { Kafka } from "kafkajs";
import { ensureNamespaceTopics } from "../adapters/kafka/index.ts";
import {
  type NamespaceConfig,
  type NamespaceSource,
  type NamespaceUpdate,
  type Target,
  TargetError,
  topicNames,
  type WalEntry,
} from "../core/index.ts";
import {
  DeliveryMetrics,
  injectTraceContext,
  type Logger,
  SpanKind,
  withSpanFrom,
} from "../observability/index.ts";
import { TargetRegistry } from "../targets/index.ts";
import { NamespaceRunner } from "./namespace-runner.ts";

export interface ProcessorOptions {
  kafka: Kafka;
  namespaces: NamespaceSource;
  /** Only namespaces of this shard are consumed. */
  shard: string;
  logger: Logger;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /** Where delivery metrics go; none are kept without one. */
  meter?: Meter;
  /** Called when a namespace's consumer stopped for good; the processor cannot go on. */
  onCrash: (namespace: string, error: unknown) => void;
}

/**
 * Runs each namespace of its shard (a NamespaceRunner: the log, the retry
 * tiers and the holds, by slice) and applies every entry to its target.
 * Progress is committed only over records whose work finished.
 *
 * Namespaces follow their source while running: a new one of this shard
 * starts being consumed, a deleted or paused one (or one moved to another
 * shard) stops after finishing and committing what it had started, a resumed
 * one starts again where it stopped, and a changed config (target, limits,
 * delivery) applies from the next batch on.
 */
export class Processor {
  private readonly consumers = new Map<string, Promise<NamespaceRunner>>();
  private readonly targets: TargetRegistry;
  private readonly metrics: DeliveryMetrics;
  private stopUpdates: (() => void) | undefined;
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly options: ProcessorOptions) {
    this.targets = new TargetRegistry(options.kafka, options.logger);
    this.metrics = new DeliveryMetrics(options.meter);
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
        return;
      }
      const running = await this.consumers.get(update.name)?.catch(() => undefined);
      if (running !== undefined && running.tiers.join() !== update.config.retry.tiers.join()) {
        // Other tiers are other topics, or records that wait other times in the same topics
        // (a tier partition is read in due order): finish what runs, then start over with them.
        await this.release(update.name);
      }
      if (!this.consumers.has(update.name)) {
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

  private consume(name: string): Promise<NamespaceRunner> {
    const runner = new NamespaceRunner({
      kafka: this.options.kafka,
      name,
      namespace: () => this.options.namespaces.get(name)?.config,
      deliver: (ns, entry, position, headers) => this.deliver(ns, entry, position, headers),
      logger: this.options.logger,
      metrics: this.metrics,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 30_000,
      onCrash: (error) => this.options.onCrash(name, error),
    });
    const started = runner.start().then(
      () => {
        this.options.logger.info(
          { namespace: name, topic: topicNames.log(name), tiers: runner.tiers },
          "processor consuming",
        );
        return runner;
      },
      (error: unknown) => {
        // Forget a runner that never started, so the next change of the namespace tries again.
        if (this.consumers.get(name) === started) this.consumers.delete(name);
        throw error;
      },
    );
    this.consumers.set(name, started);
    return started;
  }

  private async release(name: string): Promise<void> {
    const runner = this.consumers.get(name);
    if (runner === undefined) return;
    this.consumers.delete(name);
    const started = await runner.catch(() => undefined);
    if (started === undefined) return;
    await started.stop();
    this.options.logger.info({ namespace: name }, "processor stopped consuming");
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

  /** One delivery attempt of an entry to its target, in the trace of the write that made it. */
  private deliver(
    ns: NamespaceConfig,
    entry: WalEntry,
    position: { partition: number; version: bigint },
    headers: Record<string, string>,
  ): Promise<void> {
    return withSpanFrom(
      headers,
      "wal.deliver",
      SpanKind.CONSUMER,
      { "wal.entry_id": entry.id, "wal.namespace": ns.name, "wal.target": entry.target.name },
      async () => {
        const target = await this.targetOf(ns, entry.target.name);
        await target.apply({ entry, ...position, traceHeaders: injectTraceContext() });
      },
    );
  }
}
