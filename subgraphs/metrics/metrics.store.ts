// Reads metric series over any range [from, to), bucketed in any time zone: the rollups and raw
// events chosen per part of the range (series.sql.ts), plus the live tail the sink has not written
// yet. Deltas add up per bucket; lifetime totals become the change of their level between
// consecutive buckets, starting from the level before the range, so re-observed or late totals
// never count twice.
import { counterKey, hourOf, HOUR_MS } from '../../lib/live/live-keys.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { bucketStarts, floorBucket } from '../../lib/time/zoned-buckets.ts';
import type { MetricName, Platform } from '../../schema/event-envelope.ts';
import type { SeriesQuery } from './series.sql.ts';
import type { SealedReads } from './sealed-reads.ts';
import { readStoredValues, type StoredValues, type Value } from './stored-values.ts';

export type MetricsRequest = SeriesQuery;

export interface MetricSeries {
  metric: MetricName;
  total: number;
  /** For lifetime totals: their sum just before the range (0 for counters sent as changes). */
  startLevel: number;
  points: { at: number; value: number }[];
}

export interface MetricsAnswer {
  /** Bucket starts, oldest first; the first and last buckets are clipped to the range. */
  buckets: number[];
  /** Series per group key ('' when not grouped), in the order of the request's metrics. */
  groups: Map<string, MetricSeries[]>;
  /**
   * True when the live store answered for the range's latest hours, so counts the rollups do not
   * hold yet are included; false when the answer comes from the stored events alone.
   */
  live: boolean;
  /** Event time of the newest stored event in the range, or null when there is none. */
  newestEventAt: number | null;
}

/** Hours before now in which the live store may hold changes the sink has not written yet. */
const LIVE_TAIL_HOURS = 2;

export interface MetricsStore {
  read(request: MetricsRequest): Promise<MetricsAnswer>;
}

export function createMetricsStore(deps: {
  olap: Olap;
  live?: LiveStore;
  /** Told once when the live store stops answering and once when it answers again. */
  logger?: Logger;
  /** Cached answers over sealed ranges; every read goes to the stored events without it. */
  sealed?: SealedReads;
  now?: () => number;
}): MetricsStore {
  const { olap, live, logger, sealed, now = Date.now } = deps;

  // Sealed reads answer the ranges they can from cached parts; the router's statement the rest.
  const storedValues = async (q: SeriesQuery): Promise<StoredValues> =>
    (await sealed?.read(q)) ?? (await readStoredValues(olap, q));

  // The stored events answer alone while the live store is down: reported once per outage.
  let liveDown = false;
  async function liveCounters(store: LiveStore, keys: readonly string[]) {
    try {
      const counters = await store.counters(keys);
      if (liveDown) {
        liveDown = false;
        logger?.info('metrics: live store answers again; live tail merged again');
      }
      return counters;
    } catch (error) {
      if (!liveDown) {
        liveDown = true;
        if (logger) {
          logger.warn({ err: error }, 'metrics: live store unreachable; answering from rollups');
        } else {
          process.emitWarning(
            `metrics: live store unreachable; answering from rollups: ${String(error)}`,
          );
        }
      }
      return undefined;
    }
  }

  /**
   * Live counters minus what the stored events already hold, per metric, group and bucket (never
   * < 0). Only whole UTC hours inside one bucket take part: a counter cannot be split.
   */
  async function liveTail(q: MetricsRequest): Promise<{ extra: Value[]; live: boolean }> {
    const nowMs = now();
    // Live counters are kept per stored metric; derived ones are answered from stored events.
    const metrics = q.metrics.filter((m) => m !== 'unique_users' && m !== 'engagements');
    // Per-post counters exist only for the post asked for; grouping by post has no live tail.
    if (!live || metrics.length === 0 || q.groupBy === 'post') return { extra: [], live: false };
    const hours: number[] = [];
    for (
      let h = hourOf(nowMs) - (LIVE_TAIL_HOURS - 1) * HOUR_MS;
      h <= hourOf(nowMs);
      h += HOUR_MS
    ) {
      // A range ending after now holds all of the current hour there is so far.
      const end = Math.min(h + HOUR_MS, q.to > nowMs ? h + HOUR_MS : q.to);
      const whole = h >= q.from && (h + HOUR_MS <= q.to || q.to > nowMs);
      if (
        whole &&
        floorBucket(h, q.granularity, q.timeZone) ===
          floorBucket(end - 1, q.granularity, q.timeZone)
      ) {
        hours.push(h);
      }
    }
    if (hours.length === 0) return { extra: [], live: false };

    const keys = q.accountIds.flatMap((account) =>
      metrics.flatMap((m) => hours.map((h) => counterKey(q.orgId, account, q.postId ?? '', m, h))),
    );
    const counters = await liveCounters(live, keys);
    if (!counters) return { extra: [], live: false };
    // Nothing counted live in the tail hours: nothing to add, and no second query.
    if (counters.every((c) => c <= 0)) return { extra: [], live: true };

    const stored = await storedValues({
      ...q,
      metrics,
      from: hours[0]!,
      to: hours.at(-1)! + HOUR_MS,
      granularity: 'hour',
      timeZone: 'UTC',
      groupBy: 'account',
    });
    const storedAt = new Map<string, number>();
    for (const r of stored.values) {
      const key = `${r.metric}|${r.g}|${r.at}`;
      storedAt.set(key, (storedAt.get(key) ?? 0) + r.value);
    }
    const extra: Value[] = [];
    let i = 0;
    for (const account of q.accountIds) {
      const g = groupKey(q, account);
      for (const metric of metrics) {
        for (const hour of hours) {
          const missing =
            (counters[i++] ?? 0) - (storedAt.get(`${metric}|${account}|${hour}`) ?? 0);
          if (missing <= 0) continue;
          const at = floorBucket(hour, q.granularity, q.timeZone);
          extra.push({ metric, g, at, value: missing });
        }
      }
    }
    return { extra, live: true };
  }

  return {
    async read(q) {
      const [found, tail] = await Promise.all([storedValues(q), liveTail(q)]);
      const buckets = bucketStarts(q.from, q.to, q.granularity, q.timeZone);
      const slot = new Map(buckets.map((b, i) => [b, i]));

      const values = new Map<string, number[]>();
      const userTotals = new Map<string, number>();
      const startLevels = new Map<string, number>();
      const series = (g: string, metric: string) => {
        const key = `${g}|${metric}`;
        let list = values.get(key);
        if (!list) values.set(key, (list = new Array<number>(buckets.length).fill(0)));
        return list;
      };
      for (const row of [...found.values, ...tail.extra]) {
        if (row.at === -1) {
          userTotals.set(row.g, (userTotals.get(row.g) ?? 0) + row.value);
          continue;
        }
        if (row.at === -2) {
          const key = `${row.g}|${row.metric}`;
          startLevels.set(key, (startLevels.get(key) ?? 0) + row.value);
          continue;
        }
        const i = slot.get(row.at);
        // Both sides bucket by the same zone rules; a stray bucket would be a silent miscount.
        if (i === undefined) {
          throw new Error(
            `metrics: bucket ${new Date(row.at).toISOString()} is not one of ${q.timeZone}'s ${q.granularity} buckets`,
          );
        }
        series(row.g, row.metric)[i]! += row.value;
      }

      const keys = new Set<string>();
      for (const key of values.keys()) keys.add(key.slice(0, key.lastIndexOf('|')));
      for (const g of userTotals.keys()) keys.add(g);
      for (const key of startLevels.keys()) keys.add(key.slice(0, key.lastIndexOf('|')));
      if (q.groupBy === 'none') keys.add('');
      const groups = new Map<string, MetricSeries[]>();
      for (const g of [...keys].sort()) {
        groups.set(
          g,
          q.metrics.map((metric): MetricSeries => {
            const list = values.get(`${g}|${metric}`) ?? new Array<number>(buckets.length).fill(0);
            const points = buckets.map((at, i) => ({ at, value: list[i]! }));
            const total =
              metric === 'unique_users'
                ? (userTotals.get(g) ?? 0)
                : points.reduce((sum, p) => sum + p.value, 0);
            return { metric, total, startLevel: startLevels.get(`${g}|${metric}`) ?? 0, points };
          }),
        );
      }
      return { buckets, groups, live: tail.live, newestEventAt: found.newestEventAt };
    },
  };
}

function groupKey(q: MetricsRequest, account: string): string {
  if (q.groupBy === 'account') return account;
  if (q.groupBy === 'platform') return q.platforms?.get(account) ?? '';
  return '';
}

export type AccountSeriesRequest = Omit<
  MetricsRequest,
  'accountIds' | 'groupBy' | 'timeZone' | 'platforms'
> & {
  accountId: string;
  /** UTC when omitted. */
  timeZone?: string;
  /** The account's platform, which decides what its engagements are; none when omitted. */
  platform?: Platform;
};

/** The series of one account (or one of its posts), for callers that need nothing else. */
export async function readAccountSeries(
  store: MetricsStore,
  { accountId, timeZone = 'UTC', platform, ...request }: AccountSeriesRequest,
): Promise<MetricSeries[]> {
  const answer = await store.read({
    ...request,
    accountIds: [accountId],
    timeZone,
    groupBy: 'none',
    platforms: new Map(platform ? [[accountId, platform]] : []),
  });
  return answer.groups.get('') ?? [];
}
