import { trace } from "@opentelemetry/api";
import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Every line logged inside a span carries its trace and
 * span ids, so a log line leads to its trace and back.
 */
export function createLogger(service: string, level = process.env.WAL_LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getActiveSpan();
      if (span === undefined) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  });
}
