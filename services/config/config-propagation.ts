import { performance } from "node:perf_hooks";
import {
  ErrorCode,
  type NamespaceConfigInput,
  type NamespaceSource,
  type NamespaceStore,
  WalError,
} from "../core/index.ts";

export interface ConfigPropagationOptions {
  /** A store that announces its committed changes, as the control plane's does. */
  store: NamespaceStore;
  /** The source under test, subscribed to the same announcements. */
  source: NamespaceSource;
  /** The namespace to create, change `changes` times, then delete. Its name must be free. */
  namespace: NamespaceConfigInput;
  /** @default 50 */
  changes?: number;
  /** How long one change may take to reach the source before the run fails. @default 5000 */
  timeoutMs?: number;
  /** Recorded in the audit trail. @default "wal-bench" */
  actor?: string;
}

/**
 * Creates `namespace`, then updates it `changes` times one after another
 * (each update sets `limits.maxKeyBytes` to a new value), and answers, for
 * each update, the milliseconds from the store's commit (its `update`
 * resolving) to the source's listener being called with that version. The
 * namespace is deleted at the end, even after a failure. Run it against a
 * store no production service follows: they would serve the namespace too.
 */
export async function measureConfigPropagation(
  options: ConfigPropagationOptions,
): Promise<number[]> {
  const {
    store,
    source,
    namespace,
    changes = 50,
    timeoutMs = 5_000,
    actor = "wal-bench",
  } = options;
  const { name } = namespace;
  let arrived: { version: number; at: number } | undefined;
  let wake: (() => void) | undefined;
  const stopListening = source.onUpdate((update) => {
    if (update.name !== name) return;
    arrived = { version: update.version, at: performance.now() };
    wake?.();
  });

  /** Resolves with the time the source got `version` (or a later one). */
  async function reached(version: number, what: string): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (arrived === undefined || arrived.version < version) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new WalError(
          ErrorCode.internal,
          `${what} (namespace '${name}' version ${version}) did not reach the namespace source within ${timeoutMs} ms: check that NATS runs ('wal infra status'), that the store announces its changes on it, and that the source listens to the same server`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return arrived.at;
  }

  let version = 0;
  const latencies: number[] = [];
  try {
    version = (await store.create(namespace, { actor })).version;
    await reached(version, "the creation");
    for (let i = 1; i <= changes; i += 1) {
      const limits = { ...namespace.limits, maxKeyBytes: 1 + (i % 16_384) };
      version = (await store.update(name, { ...namespace, limits }, version, { actor })).version;
      const committed = performance.now();
      latencies.push((await reached(version, `change ${i} of ${changes}`)) - committed);
    }
  } catch (error) {
    stopListening();
    // Best effort: the run's own failure is the error to report.
    if (version > 0) await store.delete(name, version, { actor }).catch(() => {});
    throw error;
  }
  stopListening();
  await store.delete(name, version, { actor });
  return latencies;
}
