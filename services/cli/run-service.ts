import { describeError, isWalError } from "../core/index.ts";
import { createLogger, type Logger, startTelemetry } from "../observability/index.ts";

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Runs a long-lived service: telemetry and logs first, then `start`; on
 * SIGINT or SIGTERM stops it gracefully (a second signal exits at once).
 * A start failure prints its reason and exits with code 2.
 */
export async function runService(
  name: string,
  start: (logger: Logger) => Promise<Stoppable>,
): Promise<void> {
  const telemetry = startTelemetry(`wal-${name}`);
  const logger = createLogger(name);
  let service: Stoppable;
  try {
    service = await start(logger);
  } catch (error) {
    const reason = `cannot start: ${describeError(error)}`;
    if (isWalError(error)) logger.fatal({ code: error.code, field: error.field }, reason);
    else logger.fatal({ err: error }, reason);
    process.stderr.write(`wal ${name}: ${reason}\n`);
    await telemetry.shutdown();
    process.exit(2);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without finishing the shutdown");
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, "shutting down gracefully");
    service
      .stop()
      .then(() => telemetry.shutdown())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** Prints a user-facing error (code and what to do) and exits; for one-shot commands. */
export function failAndExit(error: unknown): never {
  const code = isWalError(error) ? `${error.code}: ` : "";
  process.stderr.write(`wal: ${code}${describeError(error)}\n`);
  process.exit(2);
}
