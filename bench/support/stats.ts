// Latency samples and their percentiles, plus the small helpers every benchmark prints with.

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `samples` (milliseconds); NaN everywhere when there are none. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const pick = (q: number) =>
    sorted.length === 0
      ? NaN
      : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    p50: pick(0.5),
    p95: pick(0.95),
    p99: pick(0.99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}

export function describe(p: Percentiles): string {
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
  return `p50 ${ms(p.p50)}, p95 ${ms(p.p95)}, p99 ${ms(p.p99)}, max ${ms(p.max)} (n=${p.count})`;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Prints one progress line, prefixed with the benchmark's name. */
export function progress(bench: string, text: string): void {
  console.log(`[${bench}] ${text}`);
}
