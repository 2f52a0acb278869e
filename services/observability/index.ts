export { createLogger, type Logger } from "./logger.ts";
export {
  injectTraceContext,
  SpanKind,
  startTelemetry,
  type Telemetry,
  tracer,
  withSpanFrom,
} from "./telemetry.ts";
