import { context, propagation, type Span, SpanKind, trace } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";

/**
 * Keeps spans recording (so trace ids reach logs and Kafka headers) when no
 * exporter is configured. Exporting is opted into with the standard
 * OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_ENDPOINT variables.
 */
const recordWithoutExport = {
  onStart() {},
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

export interface Telemetry {
  shutdown(): Promise<void>;
}

export function startTelemetry(serviceName: string): Telemetry {
  const exportConfigured =
    process.env.OTEL_TRACES_EXPORTER !== undefined ||
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined;
  const sdk = new NodeSDK({
    serviceName,
    autoDetectResources: false,
    ...(exportConfigured ? {} : { spanProcessors: [recordWithoutExport] }),
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

export const tracer = trace.getTracer("wal");

/** Writes the active trace context into a carrier (Kafka headers, HTTP headers). */
export function injectTraceContext(carrier: Record<string, string> = {}): Record<string, string> {
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `work` in a span whose parent is the trace context found in `carrier`. */
export function withSpanFrom<T>(
  carrier: Record<string, string | undefined>,
  name: string,
  kind: SpanKind,
  attributes: Record<string, string | number>,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier);
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await work(span);
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
