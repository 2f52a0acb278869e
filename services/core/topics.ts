/**
 * The one rule that names a namespace's Kafka topics and consumer groups.
 * Everything that reads or writes a namespace's log asks here.
 */
export const topicNames = {
  log: (namespace: string) => `wal.${namespace}.log`,
  /** Retry tier `tier` (1 for the first, shortest delay). */
  retry: (namespace: string, tier: number) => `wal.${namespace}.retry.${tier}`,
  deadLetter: (namespace: string) => `wal.${namespace}.dlq`,
  /** Compacted: which entries of a key wait outside the log (strict ordering). */
  holds: (namespace: string) => `wal.${namespace}.holds`,
  processorGroup: (namespace: string) => `wal.${namespace}.processor`,
} as const;

/** Every topic a namespace uses, with what it is for. */
export function namespaceTopics(
  namespace: string,
  tierCount: number,
): { topic: string; role: "log" | "retry" | "dead-letter" | "holds" }[] {
  return [
    { topic: topicNames.log(namespace), role: "log" },
    ...Array.from({ length: tierCount }, (_, i) => ({
      topic: topicNames.retry(namespace, i + 1),
      role: "retry" as const,
    })),
    { topic: topicNames.deadLetter(namespace), role: "dead-letter" },
    { topic: topicNames.holds(namespace), role: "holds" },
  ];
}
