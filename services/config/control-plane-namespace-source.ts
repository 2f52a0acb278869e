import {
  describeNatsServer,
  type NamespaceChanged,
  type NamespaceChangeSubscriber,
  type NatsStatus,
  subscribeNamespaceChanges,
} from "../adapters/nats/index.ts";
import {
  describeError,
  ErrorCode,
  isWalError,
  type LiveNamespace,
  type NamespaceRecord,
  type NamespaceSource,
  type NamespaceStore,
  type NamespaceUpdate,
  WalError,
} from "../core/index.ts";
import type { Logger } from "../observability/index.ts";

/** What the source reads: it never changes the store. */
export type NamespaceReader = Pick<NamespaceStore, "list" | "get">;

export interface ControlPlaneNamespaceSourceOptions {
  store: NamespaceReader;
  /** The NATS server the control plane announces changes on, e.g. nats://127.0.0.1:4222. */
  natsUrl: string;
  /**
   * How often the whole store is compared with what is held, whatever NATS
   * says: the bound on how stale a config gets when notifications are lost.
   * @default 30000
   */
  resyncIntervalMs?: number;
  logger: Logger;
}

/** How notifications reach a source; NATS in production, a fake in unit tests. */
export type SubscribeToChanges = (handlers: {
  onChange: (change: NamespaceChanged) => void;
  onStatus: (status: NatsStatus) => void;
}) => NamespaceChangeSubscriber;

const defaultResyncIntervalMs = 30_000;

/**
 * Namespaces from the control plane: a snapshot of the store at start, then
 * each change announced over NATS, read back from the store. The store is the
 * truth and a notification only a hint, so a notification is followed only
 * when it names a version newer than the one held, and the record read is
 * applied only if it is still newer (repeats and reordering change nothing).
 * Reads and applies run one at a time, so what a resync lists cannot undo a
 * newer record read before it.
 *
 * While NATS is down, the last good config stays and the periodic resync
 * carries changes; when NATS returns, a resync catches up at once. A store
 * that cannot be reached keeps the last good config too.
 */
export class ControlPlaneNamespaceSource implements NamespaceSource {
  private readonly held = new Map<string, LiveNamespace>();
  /** Last version applied per name, deletions included: notifications at or below it are old news. */
  private readonly versions = new Map<string, number>();
  /** Notified versions not read yet, per name (only the highest counts). */
  private readonly pending = new Map<string, number>();
  private readonly listeners = new Set<(update: NamespaceUpdate) => void>();
  private resyncWanted = false;
  private working: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private subscriber: NamespaceChangeSubscriber | undefined;

  private constructor(
    private readonly store: NamespaceReader,
    private readonly logger: Logger,
    private readonly resyncIntervalMs: number,
    private readonly natsServer: string,
  ) {}

  /**
   * Subscribes, then loads the snapshot. A change committed before the
   * subscription is registered on the server is not lost: registering it
   * reports `connected`, which resyncs. Fails (and leaves nothing running)
   * only if the snapshot cannot be read; NATS may be down.
   */
  static async start(
    options: Omit<ControlPlaneNamespaceSourceOptions, "natsUrl"> & {
      /** Where notifications come from, as logs name it. */
      natsServer: string;
    },
    subscribe: SubscribeToChanges,
  ): Promise<ControlPlaneNamespaceSource> {
    const { store, logger, resyncIntervalMs = defaultResyncIntervalMs, natsServer } = options;
    if (!Number.isInteger(resyncIntervalMs) || resyncIntervalMs < 1) {
      throw new WalError(
        ErrorCode.invalidConfig,
        `resyncIntervalMs must be a positive integer of milliseconds, got ${resyncIntervalMs}`,
        { field: "resyncIntervalMs" },
      );
    }
    const source = new ControlPlaneNamespaceSource(store, logger, resyncIntervalMs, natsServer);
    source.subscriber = subscribe({
      onChange: (change) => source.notified(change),
      onStatus: (status) => source.natsChanged(status),
    });
    try {
      await source.loadSnapshot();
    } catch (error) {
      await source.close();
      throw error;
    }
    source.started = true;
    source.timer = setInterval(() => source.requestResync(), resyncIntervalMs);
    // Notifications that came during the snapshot wait in `pending`.
    source.work();
    return source;
  }

  get(name: string): LiveNamespace | undefined {
    return this.held.get(name);
  }

  all(): LiveNamespace[] {
    return [...this.held.values()];
  }

  onUpdate(listener: (update: NamespaceUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops listening and resyncing; waits for the read in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.listeners.clear();
    await this.subscriber?.close();
    await this.working;
  }

  private async loadSnapshot(): Promise<void> {
    let records: NamespaceRecord[];
    try {
      records = await this.store.list();
    } catch (cause) {
      throw new WalError(
        isWalError(cause) ? cause.code : ErrorCode.storeUnavailable,
        `cannot load the namespaces from the control plane's store: ${describeError(cause)}`,
        { cause, canRetry: true },
      );
    }
    for (const record of records) {
      this.held.set(record.name, { config: record.config, version: record.version });
      this.versions.set(record.name, record.version);
    }
    this.logger.info(
      { namespaces: records.map(({ name, version }) => ({ name, version })) },
      "namespaces snapshot loaded",
    );
  }

  private notified({ name, version }: NamespaceChanged): void {
    if (version <= (this.versions.get(name) ?? 0) || version <= (this.pending.get(name) ?? 0)) {
      this.logger.debug({ name, version }, "ignoring an old or repeated namespace notification");
      return;
    }
    this.pending.set(name, version);
    this.work();
  }

  private natsChanged({ state, reason }: NatsStatus): void {
    const nats = this.natsServer;
    const every = `resyncing from the store every ${this.resyncIntervalMs} ms until it is back`;
    switch (state) {
      case "unreachable":
        this.logger.warn(
          { nats, reason },
          `cannot reach NATS at ${nats} (${reason}): serving the namespaces read from the store, ${every}; start NATS ('wal infra up nats') or fix --nats-url (WAL_NATS_URL)`,
        );
        return;
      case "disconnected":
        this.logger.warn(
          { nats, reason, namespaces: this.held.size },
          `lost NATS at ${nats} (${reason}): keeping the last good namespace configs, ${every}`,
        );
        return;
      case "connected":
      case "reconnected":
        // Changes announced while the subscription was not registered are lost: catch up now.
        this.logger.info({ nats, state }, "NATS up: resyncing namespaces from the store");
        this.requestResync();
        return;
    }
  }

  private requestResync(): void {
    this.resyncWanted = true;
    this.work();
  }

  /** Runs pending resyncs and reads, one at a time, until none is left. */
  private work(): void {
    if (!this.started || this.closed || this.working !== undefined) return;
    this.working = this.drain()
      .catch((error: unknown) =>
        this.logger.error(
          { err: error },
          "applying namespace changes failed; the next resync retries",
        ),
      )
      .finally(() => {
        this.working = undefined;
        // Asked for between the last check of the loop and now.
        if (this.resyncWanted || this.pending.size > 0) this.work();
      });
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      if (this.resyncWanted) {
        this.resyncWanted = false;
        await this.resync();
        continue;
      }
      const next = this.pending.entries().next();
      if (next.done === true) return;
      const [name, version] = next.value;
      this.pending.delete(name);
      await this.follow(name, version);
    }
  }

  private async follow(name: string, version: number): Promise<void> {
    // A resync since the notification may have applied it already.
    if (version <= (this.versions.get(name) ?? 0)) return;
    let record: NamespaceRecord;
    try {
      record = await this.store.get(name);
    } catch (error) {
      if (isWalError(error) && error.code === ErrorCode.namespaceNotFound) {
        this.deleted(name, version, "notification");
        return;
      }
      this.logger.warn(
        { err: error, name, version },
        `cannot read namespace '${name}' version ${version} from the store (${describeError(error)}): keeping the config held; the next resync (within ${this.resyncIntervalMs} ms) retries`,
      );
      return;
    }
    if (record.version <= (this.versions.get(name) ?? 0)) return;
    this.applied(record, "notification");
  }

  private async resync(): Promise<void> {
    let records: NamespaceRecord[];
    try {
      records = await this.store.list();
    } catch (error) {
      this.logger.warn(
        { err: error, namespaces: this.held.size },
        `cannot resync namespaces from the store (${describeError(error)}): keeping the last good configs; retrying in ${this.resyncIntervalMs} ms`,
      );
      return;
    }
    const listed = new Set<string>();
    for (const record of records) {
      listed.add(record.name);
      // Any difference, not only a newer version: the store is the truth, even restored from a backup.
      if (this.held.get(record.name)?.version !== record.version) this.applied(record, "resync");
    }
    for (const [name, live] of this.held) {
      // The deletion's own version is not listed; it is at least the next one.
      if (!listed.has(name)) this.deleted(name, live.version + 1, "resync");
    }
  }

  private applied(record: NamespaceRecord, via: "notification" | "resync"): void {
    const { name, version, config } = record;
    this.held.set(name, { config, version });
    this.versions.set(name, version);
    // From the change's transaction (the store's clock) to now (this host's clock).
    const lagMs = Date.now() - Date.parse(record.updatedAt);
    this.logger.info({ name, version, lag_ms: lagMs, via }, "namespace config applied");
    this.emit({ name, version, config });
  }

  private deleted(name: string, version: number, via: "notification" | "resync"): void {
    this.versions.set(name, Math.max(version, this.versions.get(name) ?? 0));
    // A namespace not held (created and deleted while NATS was down) changes nothing here.
    if (!this.held.delete(name)) return;
    // A deletion leaves no record to read its time from: no lag_ms.
    this.logger.info({ name, version, deleted: true, via }, "namespace config applied");
    this.emit({ name, version, config: null });
  }

  private emit(update: NamespaceUpdate): void {
    for (const listener of this.listeners) {
      try {
        listener(update);
      } catch (error) {
        // One failing listener must not keep the others (or the source) from the change.
        this.logger.error(
          { err: error, name: update.name, version: update.version },
          "a namespace update listener failed; the change is applied and the other listeners ran",
        );
      }
    }
  }
}

/**
 * Starts a `ControlPlaneNamespaceSource` and resolves once the snapshot is
 * loaded from the store. Starts without NATS (it catches up when NATS comes);
 * fails only if the store cannot be read.
 */
export function startControlPlaneNamespaceSource(
  options: ControlPlaneNamespaceSourceOptions,
): Promise<ControlPlaneNamespaceSource> {
  const { natsUrl, logger } = options;
  const natsServer = describeNatsServer(natsUrl);
  return ControlPlaneNamespaceSource.start({ ...options, natsServer }, (handlers) =>
    subscribeNamespaceChanges({ url: natsUrl, name: "wal-namespace-source", logger, ...handlers }),
  );
}
