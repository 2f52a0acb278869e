import type { NamespaceConfig } from "./namespace-config.ts";

/** A namespace as a running service holds it: the config and the version it came with. */
export interface LiveNamespace {
  config: NamespaceConfig;
  /** Control-plane version; 0 for namespaces read from a file. */
  version: number;
}

/** One applied change: `config` null means the namespace was deleted. */
export interface NamespaceUpdate {
  name: string;
  version: number;
  config: NamespaceConfig | null;
}

/**
 * Where a gateway or processor gets its namespaces: a file (fixed for the
 * life of the process) or the control plane (a snapshot at start, then every
 * change, applied in version order). Listeners run after the change is
 * visible through `get` and `all`.
 */
export interface NamespaceSource {
  get(name: string): LiveNamespace | undefined;
  all(): LiveNamespace[];
  /** Registers a listener; returns the function that removes it. */
  onUpdate(listener: (update: NamespaceUpdate) => void): () => void;
  close(): Promise<void>;
}
