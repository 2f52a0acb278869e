import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";
import type { Kafka } from "kafkajs";
import { deleteNamespaceTopics } from "../adapters/kafka/index.ts";
import { WalClient } from "../client/index.ts";
import { formatDuration } from "../core/index.ts";
import { measureBullmqLateness } from "./bullmq-delay.ts";
import { benchNamespacesFile, type SpawnedService, spawnService } from "./spawn.ts";
import { formatTable, percentile } from "./stats.ts";

export interface DelayBenchOptions {
  kafka: Kafka;
  kafkaBrokers: string[];
  redisUrl: string;
  entries: number;
  /** Delays are spread evenly over [minDelayMs, maxDelayMs]. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Retry tiers of the benchmark namespace (delays beyond the first hop through them). */
  tiersMs: number[];
  /** Writes (and BullMQ adds) in flight at once. */
  concurrency: number;
}

interface Sample {
  delayMs: number;
  latenessMs: number;
}

/** The delays, spread evenly and shuffled so the load is not sorted by due time. */
function delaysFor(options: DelayBenchOptions): number[] {
  const { entries, minDelayMs, maxDelayMs } = options;
  const delays = Array.from({ length: entries }, (_, i) =>
    Math.round(minDelayMs + ((maxDelayMs - minDelayMs) * i) / Math.max(1, entries - 1)),
  );
  for (let i = delays.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [delays[i], delays[j]] = [delays[j] as number, delays[i] as number];
  }
  return delays;
}

/** Rows of one system: every entry, then one per band of delays (split at the tiers). */
function rowsOf(
  system: string,
  samples: Sample[],
  tiersMs: number[],
  early: number,
  missing: number,
) {
  const bands: [string, Sample[]][] = [["all", samples]];
  const edges = [0, ...tiersMs, Number.POSITIVE_INFINITY];
  for (let i = 0; i + 1 < edges.length; i += 1) {
    const low = edges[i] as number;
    const high = edges[i + 1] as number;
    const inBand = samples.filter((s) => s.delayMs > low && s.delayMs <= high);
    if (inBand.length === 0) continue;
    const label =
      high === Number.POSITIVE_INFINITY ? `> ${formatDuration(low)}` : `≤ ${formatDuration(high)}`;
    bands.push([label, inBand]);
  }
  return bands.map(([label, band], i) => {
    const sorted = band.map((s) => s.latenessMs).sort((a, b) => a - b);
    return [
      system,
      label,
      String(band.length),
      i === 0 ? String(early) : "",
      i === 0 ? String(missing) : "",
      percentile(sorted, 50).toFixed(1),
      percentile(sorted, 99).toFixed(1),
      (sorted.at(-1) ?? Number.NaN).toFixed(1),
    ];
  });
}

/**
 * Delayed delivery lateness (arrival minus due time) of WAL against BullMQ
 * delayed jobs, for the same delays, one system after the other on the same
 * machine. WAL: a gateway and a processor as child processes, entries written
 * with deliver_at_ms to a namespace whose webhook target is an endpoint in
 * this process (lateness taken when the request arrives). BullMQ: delayed
 * jobs on the local Redis (lateness taken when the job's processor starts).
 */
export async function benchDelay(
  options: DelayBenchOptions,
  progress: (line: string) => void,
): Promise<string> {
  const delays = delaysFor(options);
  const namespace = `bench-delay-${Date.now().toString(36)}`;
  const arrivals = new Map<number, number>();
  const receiver = createServer((request, response) => {
    const at = Date.now();
    void text(request).then((body) => {
      const index = Number(body);
      if (!arrivals.has(index)) arrivals.set(index, at);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/delayed`;
  const namespacesFile = await benchNamespacesFile({
    name: namespace,
    partitions: 6,
    targets: { hook: { type: "webhook", url } },
    defaultTarget: "hook",
    delivery: { ordering: "relaxed", maxConcurrentKeys: 256 },
    retry: { tiers: options.tiersMs },
  });
  const env = {
    WAL_NAMESPACES_FILE: namespacesFile.path,
    WAL_KAFKA_BROKERS: options.kafkaBrokers.join(","),
  };
  const services: SpawnedService[] = [];
  const rows: string[][] = [];
  const timeoutMs = options.maxDelayMs + 60_000;
  try {
    progress(`starting a gateway and a processor for namespace ${namespace}…`);
    const gateway = await spawnService(
      ["gateway", "--grpc-port", "0", "--http-port", "0"],
      env,
      "gateway serving",
    );
    services.push(gateway);
    services.push(await spawnService(["processor"], env, "processor consuming"));
    const client = new WalClient(String(gateway.ready.grpc));
    const due = new Map<number, number>();
    progress(`WAL: writing ${delays.length} delayed entries…`);
    let next = 0;
    let refused = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (let i = next++; i < delays.length; i = next++) {
          const deliverAtMs = Date.now() + (delays[i] as number);
          const outcome = await client.write({
            namespace,
            key: `key-${i}`,
            payload: String(i),
            lifecycle: { deliverAtMs },
          });
          if (outcome.durable === "TRUE") due.set(i, deliverAtMs);
          else refused += 1;
        }
      }),
    );
    client.close();
    progress(`WAL: waiting for ${due.size} deliveries (longest delay ${options.maxDelayMs} ms)…`);
    const deadline = Date.now() + timeoutMs;
    while (arrivals.size < due.size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const walSamples: Sample[] = [];
    let walEarly = 0;
    for (const [i, dueAt] of due) {
      const arrived = arrivals.get(i);
      if (arrived === undefined) continue;
      if (arrived < dueAt) walEarly += 1;
      walSamples.push({ delayMs: delays[i] as number, latenessMs: arrived - dueAt });
    }
    rows.push(
      ...rowsOf(
        "wal",
        walSamples,
        options.tiersMs,
        walEarly,
        due.size - walSamples.length + refused,
      ),
    );

    progress(`BullMQ: ${delays.length} delayed jobs on ${options.redisUrl}…`);
    const bull = await measureBullmqLateness({
      delaysMs: delays,
      redisUrl: options.redisUrl,
      concurrency: options.concurrency,
      timeoutMs,
    });
    rows.push(...rowsOf("bullmq", bull.samples, options.tiersMs, bull.early, bull.missing));
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await new Promise((resolve) => receiver.close(resolve));
    await deleteNamespaceTopics(options.kafka, namespace);
    await namespacesFile.remove();
  }
  return formatTable(
    [
      "system",
      "delays",
      "entries",
      "early",
      "missing",
      "p50 late ms",
      "p99 late ms",
      "max late ms",
    ],
    rows,
  );
}
