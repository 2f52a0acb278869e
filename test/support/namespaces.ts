import type { NamespaceConfigInput } from "../../services/core/index.ts";
import { memcachedServers } from "./servers.ts";

/** A namespace delivering to the test memcached, under `keyPrefix`. */
export function memcachedNamespace(name: string, keyPrefix = ""): NamespaceConfigInput {
  return {
    name,
    targets: { cache: { type: "memcached", servers: memcachedServers, keyPrefix } },
    defaultTarget: "cache",
  };
}

/** A namespace delivering to one webhook. */
export function webhookNamespace(
  name: string,
  url: string,
  partitions: number,
): NamespaceConfigInput {
  return { name, partitions, targets: { hook: { type: "webhook", url } }, defaultTarget: "hook" };
}
