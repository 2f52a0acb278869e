import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
} from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

export interface MetricsEndpoint {
  port: number;
  /** Instruments made from it are served at the endpoint. */
  meter: Meter;
  stop(): Promise<void>;
}

/** Serves Prometheus metrics at http://host:port/metrics, of the instruments made from its meter. */
export async function serveMetrics(host: string, port: number): Promise<MetricsEndpoint> {
  const exporter = new PrometheusExporter({ host, port, preventServerStart: true });
  await exporter.startServer();
  const provider = new MeterProvider({ readers: [exporter] });
  return {
    port,
    meter: provider.getMeter("wal"),
    stop: () => provider.shutdown(),
  };
}

/** Histogram buckets of delivery lateness, in milliseconds. */
const latenessBuckets = [
  1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000,
];

/** What a processor measures about retries, the DLQ and delayed delivery. */
export class DeliveryMetrics {
  private readonly retries: Counter;
  private readonly deadLetters: Counter;
  private readonly deliveries: Counter;
  private readonly lateness: Histogram;

  /** Without a meter (no metrics endpoint) every record is dropped. */
  constructor(meter: Meter = createNoopMeter()) {
    this.retries = meter.createCounter("wal_retries", {
      description: "Entries sent to a retry tier after a failed attempt, by namespace and tier",
    });
    this.deadLetters = meter.createCounter("wal_dead_letters", {
      description: "Entries sent to the dead-letter queue, by namespace and reason",
    });
    this.deliveries = meter.createCounter("wal_deliveries", {
      description: "Delivery attempts, by namespace and outcome (delivered, failed)",
    });
    this.lateness = meter.createHistogram("wal_delivery_lateness", {
      description:
        "Start of a delivery attempt minus the time it was due (retry or delay), by namespace and where it waited (log or tier n)",
      unit: "ms",
      advice: { explicitBucketBoundaries: latenessBuckets },
    });
  }

  retried(namespace: string, tier: number): void {
    this.retries.add(1, { namespace, tier: String(tier) });
  }

  deadLettered(namespace: string, reason: string): void {
    this.deadLetters.add(1, { namespace, reason });
  }

  attempted(namespace: string, outcome: "delivered" | "failed" | "duplicate"): void {
    this.deliveries.add(1, { namespace, outcome });
  }

  late(namespace: string, waitedIn: string, latenessMs: number): void {
    const attributes: Attributes = { namespace, waited_in: waitedIn };
    this.lateness.record(Math.max(0, latenessMs), attributes);
  }
}

/**
 * The DLQ depth of each namespace, as last counted: entries in its dead-letter
 * queue that no redrive has taken yet.
 */
export function observeDeadLetterDepth(meter: Meter, depths: () => Map<string, number>): void {
  meter
    .createObservableGauge("wal_dead_letters_waiting", {
      description: "Entries in a namespace's dead-letter queue not redriven yet, as last counted",
    })
    .addCallback((result) => {
      for (const [namespace, depth] of depths()) result.observe(depth, { namespace });
    });
}
