// Closed-loop HTTP load: `connections` workers each POST one batch, wait for the answer, and
// POST the next, for a fixed time. Records every batch's latency and what was acknowledged.
import { performance } from 'node:perf_hooks';
import type { HttpClient } from './http-client.ts';
import { count, percentiles, progress, seconds, type Percentiles } from './stats.ts';

export interface LoadOptions {
  bench: string;
  /** What is being loaded, for progress lines. */
  label: string;
  client: HttpClient;
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  /** The body of batch number `n` (0, 1, 2, …). */
  body: (n: number) => string;
  /** Events the server acknowledged with this answer (0 when it refused them). */
  acknowledged: (status: number, body: string) => number;
  /** Called on each progress line, e.g. to look at what became queryable meanwhile. */
  onProgress?: () => Promise<string | undefined>;
  progressEveryMs?: number;
}

export interface LoadResult {
  batches: number;
  events: number;
  failures: number;
  /** Answer statuses other than 200, with how often they came. */
  otherStatuses: Map<number | string, number>;
  latency: Percentiles;
  /** performance.now() of the first request and of the last acknowledgement. */
  firstSentAt: number;
  lastAckAt: number;
  eventsPerSecond: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { client, url, headers, connections, durationMs, body, acknowledged } = options;
  const latencies: number[] = [];
  const otherStatuses = new Map<number | string, number>();
  let next = 0;
  let events = 0;
  let failures = 0;
  const firstSentAt = performance.now();
  let lastAckAt = firstSentAt;
  const until = firstSentAt + durationMs;

  const note = (status: number | string) =>
    otherStatuses.set(status, (otherStatuses.get(status) ?? 0) + 1);

  async function worker(): Promise<void> {
    while (performance.now() < until) {
      const payload = body(next++);
      try {
        const res = await client.post(url, headers, payload);
        latencies.push(res.ms);
        const acked = acknowledged(res.status, res.body);
        if (res.status !== 200) note(res.status);
        if (acked > 0) {
          events += acked;
          lastAckAt = performance.now();
        } else failures++;
      } catch (error) {
        failures++;
        note(error instanceof Error ? error.message : String(error));
      }
    }
  }

  let lastEvents = 0;
  let lastAt = firstSentAt;
  let reporting: Promise<void> | undefined;
  const every = options.progressEveryMs ?? 5_000;
  const timer = setInterval(() => {
    if (reporting) return;
    const now = performance.now();
    const rate = ((events - lastEvents) * 1000) / (now - lastAt);
    lastEvents = events;
    lastAt = now;
    const line = `${options.label}: ${seconds(now - firstSentAt)}, ${count(events)} events acknowledged (${count(rate)}/s over the last ${seconds(every)}), ${failures} failed batches`;
    const extra = options.onProgress ? options.onProgress() : Promise.resolve(undefined);
    reporting = extra
      .then(
        (more) =>
          progress(
            options.bench,
            more ? `${line}; ${more} (${count(events)} acknowledged by then)` : line,
          ),
        (error: unknown) =>
          progress(options.bench, `${line}; (progress probe failed: ${String(error)})`),
      )
      .finally(() => (reporting = undefined));
  }, every);

  try {
    await Promise.all(Array.from({ length: connections }, () => worker()));
  } finally {
    clearInterval(timer);
    // A progress line still being written belongs before whatever the caller prints next.
    await reporting;
  }
  return {
    batches: latencies.length,
    events,
    failures,
    otherStatuses,
    latency: percentiles(latencies),
    firstSentAt,
    lastAckAt,
    eventsPerSecond: (events * 1000) / (lastAckAt - firstSentAt),
  };
}
