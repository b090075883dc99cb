// Sealed reads answer exactly what the router's statement answers: for ranges that start and end
// at odd instants, in four zones, at every grain and grouping, when cached parts are reused, and
// after late, fresh and head-of-range writes. A repeated dashboard read plans no statement at all.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createOlapSink } from '../../ingest/pipeline/olap-sink.consumer.ts';
import { createWriteMarker } from '../../ingest/pipeline/write-marks.ts';
import { createMemoryLiveStore } from '../../lib/live/memory.live.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import type { Granularity } from '../../lib/time/zoned-buckets.ts';
import { METRICS, type EventInput } from '../../schema/event-envelope.ts';
import { eventsBatch } from '../../test/support/events-batch.ts';
import { knownBatch, seeded } from '../../test/support/known-batch.ts';
import { createMetricsStore, type MetricsRequest, type MetricsStore } from './metrics.store.ts';
import { createSealedReads } from './sealed-reads.ts';
import type { GroupBy } from './series.sql.ts';

const ORG = 'org-sealed-test';
const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
// Fixed for the readers: the sink's clock runs on, as a reader's may lag a writer's.
const NOW = Date.now();

const insta = knownBatch({ end: NOW + 2 * MINUTE, hours: 24 * 10, size: 3000, seed: 3 });
const x = knownBatch({
  end: NOW + 2 * MINUTE,
  hours: 24 * 10,
  size: 2000,
  seed: 11,
  platform: 'x',
});
const platforms = new Map([
  [insta.accountId, 'instagram'],
  [x.accountId, 'x'],
]);

/** A lifetime total every 7 minutes, now and then re-sent lower, so quarter-hour ends hold some. */
function denseTotals(): EventInput[] {
  const out: EventInput[] = [];
  let reach = 10;
  for (let t = NOW - 10 * DAY; t < NOW + MINUTE; t += 7 * MINUTE + 13) {
    reach += t % 3 === 0 ? -2 : 5;
    out.push({
      platform: 'instagram',
      accountId: insta.accountId,
      id: randomUUID(),
      type: 'engagement',
      metric: 'reach',
      mode: 'total',
      value: reach,
      postId: insta.postIds[1]!,
      occurredAt: new Date(t).toISOString(),
    });
  }
  return out;
}

describe('sealed reads', () => {
  let olap: Olap;
  let live: LiveStore;
  let queries = 0;
  let direct: MetricsStore;
  let sealed: MetricsStore;
  let write: (events: EventInput[]) => Promise<void>;

  beforeAll(async () => {
    olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-sealed-')) });
    await applyOlapSchema(olap);
    live = createMemoryLiveStore();
    const sink = createOlapSink({ olap, marks: createWriteMarker({ live }) });
    write = async (events) => {
      await sink.handleBatch(eventsBatch(ORG, events));
    };
    await write([...insta.events, ...x.events, ...denseTotals()]);
    const counted: Olap = {
      ...olap,
      query: (sql, params) => {
        queries++;
        return olap.query(sql, params);
      },
    };
    direct = createMetricsStore({ olap });
    sealed = createMetricsStore({
      olap: counted,
      sealed: createSealedReads({ olap: counted, live, now: () => NOW }),
    });
  }, 120_000);
  afterAll(async () => {
    await olap.close();
    await live.close();
  });

  const request = (r: Partial<MetricsRequest> & Pick<MetricsRequest, 'from' | 'to'>) => ({
    orgId: ORG,
    accountIds: [insta.accountId, x.accountId],
    platforms,
    granularity: 'day' as Granularity,
    timeZone: 'UTC',
    metrics: [...METRICS],
    groupBy: 'none' as GroupBy,
    ...r,
  });

  const expectSame = async (q: MetricsRequest) => {
    const want = await direct.read(q);
    expect(await sealed.read(q)).toEqual(want);
    // Again, from what the first read cached.
    expect(await sealed.read(q)).toEqual(want);
    return want;
  };

  test('ranges at odd instants, in four zones, at every grain and grouping, match the router', async () => {
    const random = seeded(29);
    const zones = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Asia/Kathmandu'];
    const grains: Granularity[] = ['hour', 'day', 'week', 'month'];
    const groupings: GroupBy[] = ['none', 'account', 'platform', 'post'];
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    for (let i = 0; i < 24; i++) {
      const from = NOW - Math.floor(random() * 9 * DAY) - 1;
      const ends = [NOW, NOW - Math.floor(random() * (NOW - from)), NOW + 10 * MINUTE];
      const to = Math.max(from + 20 * MINUTE, pick(ends));
      const granularity = to - from > 4 * DAY ? pick(grains.slice(1)) : pick(grains);
      const q = request({
        from,
        to,
        granularity,
        timeZone: pick(zones),
        groupBy: pick(groupings),
        ...(i % 6 === 5 ? { postId: insta.postIds[1]!, accountIds: [insta.accountId] } : {}),
      });
      await expectSame(q);
    }
  }, 120_000);

  test('a dashboard read again, or a moment later, plans nothing', async () => {
    const q = request({ from: NOW - 30 * DAY + 777, to: NOW, timeZone: 'America/Los_Angeles' });
    await sealed.read(q);
    queries = 0;
    await sealed.read(q);
    await sealed.read({ ...q, from: q.from + 1, to: q.to - 1 });
    expect(queries).toBe(0);
  });

  test('ranges starting at a quarter-hour and minutes before it share no wrong part', async () => {
    const aligned = Math.floor((NOW - 2 * DAY) / (15 * MINUTE)) * 15 * MINUTE;
    // Lifetime totals every 7 minutes: some fall between each earlier start and the quarter-hour.
    for (const from of [
      aligned,
      aligned - 5 * MINUTE,
      aligned - 14 * MINUTE,
      aligned - 1,
      aligned,
    ]) {
      await expectSame(request({ from, to: NOW, timeZone: 'Asia/Kolkata', groupBy: 'post' }));
    }
  });

  test('late, fresh and head-of-range writes are in the next answer', async () => {
    const from = NOW - 3 * DAY - 5 * MINUTE - 321;
    const q = request({ from, to: NOW, timeZone: 'America/Los_Angeles' });
    const base = { platform: 'instagram' as const, accountId: insta.accountId };
    let last = await expectSame(q);
    const writes: EventInput[][] = [
      // Late, into the core.
      [
        {
          ...base,
          id: randomUUID(),
          type: 'engagement',
          metric: 'likes',
          mode: 'delta',
          value: 7,
          occurredAt: new Date(NOW - 2 * DAY).toISOString(),
        },
      ],
      // Fresh, into the tail.
      [
        {
          ...base,
          id: randomUUID(),
          type: 'engagement',
          metric: 'likes',
          mode: 'delta',
          value: 5,
          occurredAt: new Date(NOW - 1).toISOString(),
        },
      ],
      // A new user at the range's start, and a level move just before it.
      [
        {
          ...base,
          id: randomUUID(),
          type: 'app',
          name: 'open',
          userId: `user-${randomUUID()}`,
          properties: {},
          occurredAt: new Date(from + 1).toISOString(),
        },
        {
          ...base,
          id: randomUUID(),
          type: 'engagement',
          metric: 'reach',
          mode: 'total',
          value: 99_999,
          postId: insta.postIds[1]!,
          occurredAt: new Date(from - 1).toISOString(),
        },
      ],
    ];
    for (const events of writes) {
      await write(events);
      const now = await expectSame(q);
      expect(now).not.toEqual(last);
      last = now;
    }
  });

  test('without write marks to check, every read goes to the router', async () => {
    const down: LiveStore = {
      ...live,
      counters: () => Promise.reject(new Error('live store down')),
    };
    const reads = createSealedReads({ olap, live: down, now: () => NOW });
    const q = request({ from: NOW - 2 * DAY + 99, to: NOW });
    expect(await reads.read(q)).toBeUndefined();
    const store = createMetricsStore({ olap, sealed: reads });
    expect(await store.read(q)).toEqual(await direct.read(q));
  });
});
