// Overload has a floor: at ten times the rate the gateway serves, answered requests keep a bounded
// latency and the rest are refused at once with 503 and Retry-After; once the load stops, a plain
// query answers in its usual time (no backlog of abandoned work). Every bound is relative to
// figures measured earlier in the same run, and generous, for a noisy shared machine.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  openLoadAgent,
  runClosedLoad,
  runOpenLoad,
  timedPost,
  type Outcome,
} from '../bench/support/open-load.ts';
import { dashboardBody, plainBody } from '../bench/support/readme-queries.ts';
import { percentiles } from '../bench/support/stats.ts';
import { defaultLimits } from '../lib/config.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { startProductProcess, type ProductProcess } from './support/product-process.ts';
import { waitUntil } from './support/wait-for.ts';

const KEY = 'loupe_overload_test_000000000';
const HEADERS = { 'content-type': 'application/json', 'x-api-key': KEY };

/** Likes and views for one account, spread over the 29 days the dashboard query reads. */
function events(accountId: string, count: number): EventInput[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    type: 'engagement' as const,
    platform: 'instagram' as const,
    accountId,
    metric: (['likes', 'views'] as const)[i % 2]!,
    mode: 'delta' as const,
    value: 1 + (i % 5),
    occurredAt: new Date(now - (i % (29 * 24)) * 3_600_000).toISOString(),
  }));
}

const p = (outcomes: readonly Outcome[]) => percentiles(outcomes.map((o) => o.ms));

// Each dashboard request ends a quarter-hour earlier than the last: no cached part answers it, so
// every request costs the same work and the served rate measured first holds through the test.
let shifted = 0;
const uncachedDashboard = () => dashboardBody(Date.now() - ++shifted * 15 * 60_000);

describe('overload', () => {
  let dataDir: string;
  let product: ProductProcess;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-overload-'));
    product = await startProductProcess({ dataDir, apiKey: KEY });
    for (let a = 0; a < 4; a++) {
      const res = await fetch(`${product.ingest}/v1/events`, {
        method: 'POST',
        headers: HEADERS,
        body: JSON.stringify({ events: events(`ig-overload-${a}`, 1000) }),
      });
      expect(res.status).toBe(200);
    }
    const agent = openLoadAgent();
    await waitUntil('the accounts to be queryable', async () => {
      const r = await timedPost(agent, product.gateway, HEADERS, plainBody(), 5_000);
      return r.status === 200;
    });
    agent.destroy();
  });
  afterAll(async () => {
    await product.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('at 10x the served rate: bounded latency for answers, fast 503s for the rest, quick recovery', async () => {
    const agent = openLoadAgent();
    const plain = async () =>
      (await timedPost(agent, product.gateway, HEADERS, plainBody(), 20_000)).ms;
    // Warm up, then the figures everything below is compared with.
    await runClosedLoad({
      url: product.gateway,
      headers: HEADERS,
      body: uncachedDashboard,
      connections: 4,
      durationMs: 1_000,
      timeoutMs: 20_000,
    });
    const base = await runClosedLoad({
      url: product.gateway,
      headers: HEADERS,
      body: uncachedDashboard,
      connections: 4,
      durationMs: 3_000,
      timeoutMs: 20_000,
    });
    expect(base.outcomes.every((o) => o.status === 200)).toBe(true);
    const servedPerSecond = (base.outcomes.length * 1000) / base.ms;
    const baseLatency = p(base.outcomes);
    const plainBefore: number[] = [];
    for (let i = 0; i < 5; i++) plainBefore.push(await plain());
    const plainUsual = percentiles(plainBefore).p50;

    const outcomes = await runOpenLoad({
      url: product.gateway,
      headers: HEADERS,
      body: uncachedDashboard,
      ratePerSecond: Math.ceil(10 * servedPerSecond),
      durationMs: 4_000,
      timeoutMs: 20_000,
      maxRequests: 2_000,
    });
    const stoppedAt = Date.now();
    const answered = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 503);
    const others = outcomes.map((o) => String(o.status)).filter((s) => s !== '200' && s !== '503');
    const summary = {
      servedPerSecond: servedPerSecond.toFixed(1),
      baseP50: baseLatency.p50.toFixed(0),
      sent: outcomes.length,
      answered: answered.length,
      refused: refused.length,
      other: Object.fromEntries(
        [...new Set(others)].map((s) => [s, others.filter((o) => o === s).length]),
      ),
      answeredP95: p(answered).p95.toFixed(0),
      refusedP95: p(refused).p95.toFixed(0),
    };

    // Nothing times out or fails otherwise: every caller hears back, one way or the other.
    expect(summary.other, JSON.stringify(summary)).toEqual({});
    expect(answered.length, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(refused.length, JSON.stringify(summary)).toBeGreaterThan(outcomes.length / 2);
    for (const r of refused) {
      expect([r.code, r.retryAfter]).toEqual(['OVERLOADED', '1']);
    }
    // Answers wait for at most the bounded work ahead of them (the in-flight bound against the
    // baseline's 4 callers, plus the queue's wait), not for a queue without end; 3x for noise.
    const { maxInFlight, queueWaitMs } = defaultLimits('gateway');
    const bound = 3 * ((maxInFlight / 4) * baseLatency.p50 + queueWaitMs);
    expect(p(answered).p95, JSON.stringify({ ...summary, bound })).toBeLessThan(
      Math.max(3_000, bound),
    );
    // Refusals come at once (the queue's short wait at most), far inside a caller's patience.
    expect(p(refused).p95, JSON.stringify(summary)).toBeLessThan(1_500);

    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + 1_000 - Date.now())));
    const after = await plain();
    expect(after, JSON.stringify({ ...summary, plainUsual, after })).toBeLessThan(
      Math.max(500, 5 * plainUsual),
    );
    agent.destroy();
  });
});
