// Exact ranges in time zones: ranges that start and end at odd instants, bucketed by hour, day,
// ISO week and month in America/Los_Angeles across both 2026 DST changes, in Asia/Kolkata
// (+05:30), Asia/Kathmandu (+05:45) and UTC. Every point is checked against a recount of the raw
// events that names buckets with Intl alone.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createOlapSink } from '../../ingest/pipeline/olap-sink.consumer.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import type { Granularity } from '../../lib/time/zoned-buckets.ts';
import { METRICS, type EventInput } from '../../schema/event-envelope.ts';
import { knownBatch, seeded } from '../../test/support/known-batch.ts';
import { localClock, localLabel } from '../../test/support/local-label.ts';
import { distinctUsersIn, recountBy } from '../../test/support/recount.ts';
import { createMetricsStore, readAccountSeries } from './metrics.store.ts';
import { eventsBatch } from '../../test/support/events-batch.ts';

const ORG = 'org-zoned-test';
// Late February to mid-November 2026: both of Los Angeles' DST changes (8 March, 1 November).
const batch = knownBatch({ end: Date.parse('2026-11-12T00:00:00Z'), hours: 24 * 265, size: 9000 });

interface Case {
  zone: string;
  granularity: Granularity;
  from: string;
  to: string;
}

const CASES: Case[] = [
  // A 23-hour day (8 March), and a 25-hour one (1 November).
  {
    zone: 'America/Los_Angeles',
    granularity: 'day',
    from: '2026-03-05T10:17:42.123Z',
    to: '2026-03-12T23:03:09.877Z',
  },
  {
    zone: 'America/Los_Angeles',
    granularity: 'day',
    from: '2026-10-28T04:44:44.444Z',
    to: '2026-11-04T19:19:19.191Z',
  },
  {
    zone: 'America/Los_Angeles',
    granularity: 'week',
    from: '2026-02-25T13:13:13.013Z',
    to: '2026-11-11T02:02:02.202Z',
  },
  {
    zone: 'America/Los_Angeles',
    granularity: 'month',
    from: '2026-02-25T13:13:13.013Z',
    to: '2026-11-11T02:02:02.202Z',
  },
  // The hour 1 November repeats, and the hour 8 March skips.
  {
    zone: 'America/Los_Angeles',
    granularity: 'hour',
    from: '2026-10-31T20:31:07.500Z',
    to: '2026-11-02T03:12:00.100Z',
  },
  {
    zone: 'America/Los_Angeles',
    granularity: 'hour',
    from: '2026-03-07T22:00:00.001Z',
    to: '2026-03-09T13:59:59.999Z',
  },
  {
    zone: 'Asia/Kolkata',
    granularity: 'day',
    from: '2026-03-01T00:07:00.001Z',
    to: '2026-04-15T17:59:59.999Z',
  },
  {
    zone: 'Asia/Kolkata',
    granularity: 'hour',
    from: '2026-06-10T05:41:12.345Z',
    to: '2026-06-12T19:29:00.000Z',
  },
  {
    zone: 'Asia/Kolkata',
    granularity: 'month',
    from: '2026-02-21T00:00:00.000Z',
    to: '2026-11-11T00:00:00.000Z',
  },
  {
    zone: 'Asia/Kathmandu',
    granularity: 'week',
    from: '2026-03-03T08:08:08.808Z',
    to: '2026-09-09T09:09:09.909Z',
  },
  // UTC: whole UTC months and days in the middle come from the monthly and daily rollups.
  {
    zone: 'UTC',
    granularity: 'month',
    from: '2026-02-22T06:30:00.000Z',
    to: '2026-11-10T12:00:00.5Z',
  },
  {
    zone: 'UTC',
    granularity: 'day',
    from: '2026-05-01T00:00:00.000Z',
    to: '2026-06-01T00:00:00.000Z',
  },
];

/**
 * Copies of the batch's events (every kind) at and around each case's two ends, down to the
 * millisecond either side, so a range end that is off by any amount changes some answer.
 */
function edgeEvents(): EventInput[] {
  const random = seeded(11);
  const out: EventInput[] = [];
  // Once per instant: two readings of one lifetime total at the same millisecond have no order.
  const ends = [...new Set(CASES.flatMap((c) => [Date.parse(c.from), Date.parse(c.to)]))];
  for (const end of ends) {
    const times = [end - 1, end, end + 1];
    for (let i = 0; i < 24; i++) times.push(end + Math.round((random() - 0.5) * 40 * 60_000));
    for (const at of times) {
      const model = batch.events[Math.floor(random() * batch.events.length)]!;
      out.push({ ...model, id: randomUUID(), occurredAt: new Date(at).toISOString() });
    }
  }
  return out;
}
const events = [...batch.events, ...edgeEvents()];

describe('metrics over exact ranges in time zones', () => {
  let olap: Olap;

  beforeAll(async () => {
    olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-zoned-')) });
    await applyOlapSchema(olap);
    const sink = createOlapSink({ olap });
    await sink.handleBatch(eventsBatch(ORG, events));
  }, 60_000);
  afterAll(() => olap.close());

  for (const c of CASES) {
    test(`${c.granularity} in ${c.zone}, ${c.from} to ${c.to}`, async () => {
      const from = Date.parse(c.from);
      const to = Date.parse(c.to);
      const series = await readAccountSeries(createMetricsStore({ olap }), {
        orgId: ORG,
        accountId: batch.accountId,
        platform: 'instagram',
        from,
        to,
        granularity: c.granularity,
        timeZone: c.zone,
        metrics: [...METRICS],
      });
      const label = (ms: number) => localLabel(ms, c.granularity, c.zone);
      const expected = recountBy(events, label, { from, to });

      const points = series[0]!.points;
      const labels = points.map((p) => label(p.at));
      // One point per local bucket, each starting at a local bucket start, none missing.
      expect(new Set(labels).size).toBe(labels.length);
      expect(labels[0]).toBe(label(from));
      expect(labels.at(-1)).toBe(label(to - 1));
      for (const p of points) {
        const clock = localClock(p.at, c.zone);
        expect(c.granularity === 'hour' ? clock.endsWith(':00') : clock === '00:00', clock).toBe(
          true,
        );
      }
      for (const one of series) {
        const want = expected.get(one.metric) ?? new Map<string, number>();
        for (const key of want.keys()) expect(labels, `${one.metric} ${key}`).toContain(key);
        for (const p of one.points) {
          expect(p.value, `${one.metric} at ${label(p.at)}`).toBe(want.get(label(p.at)) ?? 0);
        }
        const total =
          one.metric === 'unique_users'
            ? distinctUsersIn(events, from, to)
            : [...want.values()].reduce((a, b) => a + b, 0);
        expect(one.total, one.metric).toBe(total);
      }
    });
  }
});
