/**
 * The one rule that names a namespace's Kafka topics and consumer groups.
 * Everything that reads or writes a namespace's log asks here.
 */
export const topicNames = {
  log: (namespace: string) => `wal.${namespace}.log`,
  processorGroup: (namespace: string) => `wal.${namespace}.processor`,
} as const;
