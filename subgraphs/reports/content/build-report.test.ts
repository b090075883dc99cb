// buildReport against chDB and PGlite: events sent through the OLAP sink, every total, bucket,
// previous total and top post checked against a recount, in this file, of the events sent, over a
// range with unaligned ends across Los Angeles' DST change, in two zones.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createOlapSink } from '../../../ingest/pipeline/olap-sink.consumer.ts';
import { createOrganisation, upsertTrackedAccounts } from '../../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../../lib/meta/meta.port.ts';
import { migrate } from '../../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../../lib/olap/olap-schema.ts';
import { ENGAGEMENTS } from '../../../schema/engagement.ts';
import type { EventInput, MetricName, Platform } from '../../../schema/event-envelope.ts';
import { eventsBatch } from '../../../test/support/events-batch.ts';
import { buildReport } from './build-report.ts';
import type { ReportRequest } from './report-data.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// 30 Oct 13:17:00.250 PDT to 3 Nov 09:45:30 PST: Los Angeles' 1 November lasts 25 hours.
const FROM = Date.parse('2026-10-30T13:17:00.250-07:00');
const TO = Date.parse('2026-11-03T09:45:30-08:00');
const PREVIOUS = { from: FROM - 4 * DAY - 3 * HOUR, to: FROM };
const METRICS: MetricName[] = ['likes', 'comments', 'impressions', 'engagements'];
const ACCOUNTS: { id: string; platform: Platform }[] = [
  { id: 'acct-ig', platform: 'instagram' },
  { id: 'acct-fb', platform: 'facebook' },
];
const TRICKY = 'Launch, "Cloudfoam" day,\nwith "quotes", commas\r\nand new lines';

let olap: Olap;
let meta: MetaStore;
let orgId: string;
const events: Extract<EventInput, { type: 'engagement' }>[] = [];
const posts: Extract<EventInput, { type: 'post' }>[] = [];

function buildEvents(): EventInput[] {
  let n = 0;
  const metrics = ['likes', 'comments', 'impressions', 'shares', 'saves'] as const;
  for (const [k, a] of ACCOUNTS.entries()) {
    for (let p = 0; p < 3; p++) {
      const published = FROM + (p + 1) * 19 * HOUR + k * 7 * MIN;
      posts.push({
        id: `post-ev-${a.id}-${p}`,
        type: 'post',
        action: 'published',
        platform: a.platform,
        accountId: a.id,
        postId: `${a.id}-p${p}`,
        content: p === 0 && k === 0 ? TRICKY : `Post ${p} of ${a.id}`,
        mediaType: 'image',
        publishedAt: new Date(published).toISOString(),
        occurredAt: new Date(published).toISOString(),
      });
    }
    // Every 41 minutes from well before the previous period to after the range, plus events on
    // the range's edges (its first and last millisecond, and just outside).
    const times: number[] = [];
    for (let t = PREVIOUS.from - DAY; t < TO + DAY; t += 41 * MIN + 13_000) times.push(t);
    times.push(FROM, FROM - 1, TO - 1, TO, PREVIOUS.from, PREVIOUS.from - 1);
    for (const [i, t] of times.entries()) {
      const metric = metrics[(i + k) % metrics.length]!;
      const onPost = i % 3 === 0;
      const post = posts
        .filter((p) => p.accountId === a.id)
        .find((p) => Date.parse(p.publishedAt) <= t);
      events.push({
        id: `ev-${n++}`,
        type: 'engagement',
        platform: a.platform,
        accountId: a.id,
        ...(onPost && post ? { postId: post.postId } : {}),
        metric,
        mode: 'delta',
        value: 1 + ((i * 7 + k * 3) % 11),
        occurredAt: new Date(t).toISOString(),
      });
    }
  }
  return [...posts, ...events];
}

/** The recount: the sum of the events of one account and metric in [from, to). */
function recount(accountId: string, metric: MetricName, from: number, to: number): number {
  const platform = ACCOUNTS.find((a) => a.id === accountId)!.platform;
  const counted: readonly string[] = metric === 'engagements' ? ENGAGEMENTS[platform] : [metric];
  return events
    .filter((e) => e.accountId === accountId && counted.includes(e.metric))
    .filter((e) => Date.parse(e.occurredAt) >= from && Date.parse(e.occurredAt) < to)
    .reduce((sum, e) => sum + e.value, 0);
}

/** Local midnights strictly inside (from, to), by the calendar of the zone. */
function localDayEdges(from: number, to: number, zone: string): number[] {
  const edges = [from];
  let day = DateTime.fromMillis(from, { zone }).startOf('day').plus({ days: 1 });
  while (day.toMillis() < to) {
    edges.push(day.toMillis());
    day = day.plus({ days: 1 });
  }
  return [...edges, to];
}

function request(timeZone: string, extra: Partial<ReportRequest> = {}): ReportRequest {
  return {
    orgId,
    organisationName: 'Northwind',
    timeZone,
    accountIds: [...ACCOUNTS.map((a) => a.id), 'never-tracked'],
    metrics: METRICS,
    range: { from: FROM, to: TO },
    previous: PREVIOUS,
    generatedAt: TO + HOUR,
    ...extra,
  };
}

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-report-')) });
  await applyOlapSchema(olap);
  meta = await createPgliteMeta();
  await migrate(meta);
  orgId = await createOrganisation(meta, 'Northwind', 'America/Los_Angeles');
  await upsertTrackedAccounts(
    meta,
    orgId,
    ACCOUNTS.map((a) => ({ ...a, handle: `${a.id}-handle` })),
  );
  const sink = createOlapSink({ olap });
  const all = buildEvents();
  const result = await sink.handleBatch(eventsBatch(orgId, all, TO + DAY));
  expect(result.inserted).toBe(all.length);
});
afterAll(async () => {
  await olap.close();
  await meta.close();
});

describe('buildReport', () => {
  for (const zone of ['America/Los_Angeles', 'Asia/Kolkata']) {
    test(`totals, previous totals and daily buckets equal a recount in ${zone}`, async () => {
      const data = await buildReport({ olap, meta }, request(zone));
      expect(data.granularity).toBe('day');
      expect(data.accounts.map((a) => a.id)).toEqual(ACCOUNTS.map((a) => a.id));
      expect(data.accounts[0]?.name).toBe('acct-ig-handle');
      expect(data.untrackedAccountIds).toEqual(['never-tracked']);
      expect(data.summaries).toHaveLength(ACCOUNTS.length * METRICS.length);
      const edges = localDayEdges(FROM, TO, zone);
      for (const s of data.summaries) {
        const label = `${s.accountId} ${s.metric}`;
        const total = recount(s.accountId, s.metric, FROM, TO);
        const previousTotal = recount(s.accountId, s.metric, PREVIOUS.from, PREVIOUS.to);
        expect(total, label).toBeGreaterThan(0);
        expect(s.total, label).toBe(total);
        expect(s.previousTotal, label).toBe(previousTotal);
        expect(s.change, label).toBe(total - previousTotal);
        expect(s.changePercent, label).toBeCloseTo(
          ((total - previousTotal) / previousTotal) * 100,
          9,
        );
        expect(
          s.buckets.map((b) => b.start),
          label,
        ).toEqual(edges.slice(0, -1));
        expect(
          s.buckets.map((b) => b.end),
          label,
        ).toEqual(edges.slice(1));
        for (const b of s.buckets) {
          expect(b.value, `${label} @ ${new Date(b.start).toISOString()}`).toBe(
            recount(s.accountId, s.metric, b.start, b.end),
          );
        }
      }
    });
  }

  test('a Los Angeles day across the DST change lasts 25 hours; Kolkata days start at 18:30 UTC', async () => {
    const la = await buildReport({ olap, meta }, request('America/Los_Angeles'));
    const november1 = la.summaries[0]!.buckets.find(
      (b) => b.start === Date.parse('2026-11-01T00:00:00-07:00'),
    );
    expect(november1 && november1.end - november1.start).toBe(25 * HOUR);
    const kolkata = await buildReport({ olap, meta }, request('Asia/Kolkata'));
    expect(new Date(kolkata.summaries[0]!.buckets[1]!.start).toISOString()).toMatch(/T18:30:00/);
  });

  test('top posts are those published in the range, by engagements, with alt text from their text', async () => {
    const data = await buildReport({ olap, meta }, request('America/Los_Angeles'));
    const expected = posts
      .filter((p) => Date.parse(p.publishedAt) >= FROM && Date.parse(p.publishedAt) < TO)
      .map((p) => {
        const platform = ACCOUNTS.find((a) => a.id === p.accountId)!.platform;
        const engagements = events
          .filter((e) => e.postId === p.postId && ENGAGEMENTS[platform].includes(e.metric))
          .reduce((sum, e) => sum + e.value, 0);
        return { id: p.postId, engagements };
      })
      .sort((a, b) => b.engagements - a.engagements || (a.id < b.id ? -1 : 1));
    expect(expected.length).toBeGreaterThan(2);
    expect(data.topPosts.map((p) => ({ id: p.id, engagements: p.engagements }))).toEqual(expected);
    const tricky = data.topPosts.find((p) => p.content === TRICKY)!;
    expect(tricky.excerpt).toBe('Launch, "Cloudfoam" day, with "quotes", commas and new lines');
    expect(tricky.altText).toContain(tricky.excerpt);
    expect(tricky.altTextSource).toBe('content-excerpt');
  });

  test('a competitor set adds shares and ranks of its members', async () => {
    const without = await buildReport({ olap, meta }, request('Asia/Kolkata'));
    expect(without.comparison).toBeNull();
    const data = await buildReport(
      { olap, meta },
      request('Asia/Kolkata', { competitorSet: { id: 'set-1', name: 'Rivals' } }),
    );
    const comparison = data.comparison!;
    expect(comparison.setName).toBe('Rivals');
    for (const metric of METRICS) {
      const cells = comparison.cells.filter((c) => c.metric === metric);
      const totals = ACCOUNTS.map((a) => recount(a.id, metric, FROM, TO));
      expect(cells.map((c) => c.total)).toEqual(totals);
      expect(comparison.setTotals.find((t) => t.metric === metric)?.total).toBe(
        totals[0]! + totals[1]!,
      );
      expect(cells.reduce((sum, c) => sum + (c.sharePercent ?? 0), 0)).toBeCloseTo(100, 9);
      const best = totals[0]! >= totals[1]! ? 0 : 1;
      expect(cells[best]?.rank).toBe(1);
    }
  });

  test('a range longer than 62 days is bucketed by ISO week', async () => {
    const from = Date.parse('2026-08-05T10:00:00-07:00');
    const data = await buildReport(
      { olap, meta },
      request('America/Los_Angeles', { range: { from, to: TO } }),
    );
    expect(data.granularity).toBe('week');
    const starts = data.summaries[0]!.buckets.slice(1).map((b) =>
      DateTime.fromMillis(b.start, { zone: 'America/Los_Angeles' }),
    );
    expect(starts.every((d) => d.weekday === 1 && d.hour === 0 && d.minute === 0)).toBe(true);
    expect(data.summaries[0]!.total).toBe(recount('acct-ig', METRICS[0]!, from, TO));
  });
});
