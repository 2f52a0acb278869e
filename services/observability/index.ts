export { createLogger, type Logger } from "./logger.ts";
export {
  DeliveryMetrics,
  type MetricsEndpoint,
  observeDeadLetterDepth,
  serveMetrics,
} from "./metrics.ts";
export {
  injectTraceContext,
  SpanKind,
  startTelemetry,
  type Telemetry,
  tracer,
  withSpanFrom,
} from "./telemetry.ts";
