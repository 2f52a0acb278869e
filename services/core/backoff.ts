import type { BackoffConfig } from "./namespace-config.ts";

/**
 * Delay before retry number `attempt` (1 for the first retry): exponential
 * from `initialMs`, capped at `maxMs`; with jitter, a uniform draw in
 * [delay/2, delay] so that many keys failing together do not retry in step
 * while no retry comes sooner than half the schedule. Results are whole
 * milliseconds inside those bounds.
 */
export function backoffDelayMs(
  config: BackoffConfig,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const delay = Math.min(config.maxMs, config.initialMs * config.multiplier ** exponent);
  if (!config.jitter) return Math.ceil(delay);
  return Math.min(Math.floor(delay), Math.ceil(delay / 2 + (random() * delay) / 2));
}
