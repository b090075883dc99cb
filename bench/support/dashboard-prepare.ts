// The dashboard benchmarks' data: seeded once by dashboard-data.ts in a child process (chDB takes
// one process per data directory) under `.loupe/bench/`, then reused while its seed still fits.
import { join } from 'node:path';
import { forkBenchChild } from './child.ts';
import type { DashboardDataResult } from './dashboard-data.ts';
import { BENCH_CACHE_DIR } from './paths.ts';

export interface DashboardDataOptions {
  events: number;
  accounts: number;
  days: number;
  /** Store reads timed as the baseline, after `warmup` untimed ones. */
  queries: number;
  warmup: number;
  apiKey: string;
  account: string;
}

export function dashboardDataDir(o: Pick<DashboardDataOptions, 'events' | 'accounts' | 'days'>) {
  return join(BENCH_CACHE_DIR, `dashboard-${o.events}e-${o.accounts}a-${o.days}d`);
}

export async function prepareDashboardData(
  dataDir: string,
  o: DashboardDataOptions,
): Promise<DashboardDataResult> {
  const child = forkBenchChild(new URL('./dashboard-data.ts', import.meta.url), [
    ...['--data-dir', dataDir, '--api-key', o.apiKey, '--account', o.account],
    ...['--events', String(o.events), '--accounts', String(o.accounts)],
    ...['--days', String(o.days), '--queries', String(o.queries)],
    ...['--warmup', String(o.warmup)],
  ]);
  try {
    // Seeding 10M events takes minutes on two cores; the child prints its own progress.
    const result = await child.next<DashboardDataResult>('result', 30 * 60_000);
    await child.exited;
    return result;
  } finally {
    await child.stop(5_000);
  }
}
