import type {
  LiveNamespace,
  NamespaceConfig,
  NamespaceSource,
  NamespaceUpdate,
} from "../core/index.ts";
import { loadNamespacesFile } from "./namespaces-file.ts";

/** Namespaces fixed for the life of the process, all at version 0: a file has no versions. */
export class FileNamespaceSource implements NamespaceSource {
  private readonly namespaces: Map<string, LiveNamespace>;

  constructor(configs: readonly NamespaceConfig[]) {
    this.namespaces = new Map(configs.map((config) => [config.name, { config, version: 0 }]));
  }

  get(name: string): LiveNamespace | undefined {
    return this.namespaces.get(name);
  }

  all(): LiveNamespace[] {
    return [...this.namespaces.values()];
  }

  /** Nothing ever changes: the listener is never called. Edit the file and restart instead. */
  onUpdate(_listener: (update: NamespaceUpdate) => void): () => void {
    return () => {};
  }

  async close(): Promise<void> {}
}

/** Loads and validates a namespaces file (see `loadNamespacesFile`) as a source. */
export async function fileNamespaceSource(path: string): Promise<FileNamespaceSource> {
  return new FileNamespaceSource(await loadNamespacesFile(path));
}
