/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface LoadResult {
  count: number;
  failures: number;
  seconds: number;
  latenciesMs: number[];
}

/**
 * Runs `total` operations with `concurrency` workers and records each
 * successful operation's latency. An operation that throws or returns false
 * counts as a failure.
 */
export async function runLoad(
  total: number,
  concurrency: number,
  operation: (i: number) => Promise<boolean>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = process.hrtime.bigint();
      let ok = false;
      try {
        ok = await operation(i);
      } catch {
        ok = false;
      }
      if (ok) latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else failures += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  return { count: total, failures, seconds, latenciesMs };
}

/** Renders rows as a fixed-width text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export const loadTableHeader = [
  "system",
  "concurrency",
  "writes",
  "failed",
  "writes/s",
  "p50 ms",
  "p99 ms",
];

/** One row of a load table: what was measured, at which concurrency, and how it went. */
export function loadRow(system: string, concurrency: number, result: LoadResult): string[] {
  const ok = result.count - result.failures;
  return [
    system,
    String(concurrency),
    String(ok),
    String(result.failures),
    (ok / result.seconds).toFixed(0),
    percentile(result.latenciesMs, 50).toFixed(2),
    percentile(result.latenciesMs, 99).toFixed(2),
  ];
}
