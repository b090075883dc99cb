// An independent recount of raw events, to check what the API answers against: plain
// TypeScript over the events as sent, no SQL and no pipeline code.
import type { EventInput, MetricName } from '../../schema/event-envelope.ts';

export type Grain = 'hour' | 'day' | 'month';

export function bucketOf(ms: number, grain: Grain): number {
  const d = new Date(ms);
  if (grain === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  if (grain === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
}

interface Reading {
  series: string;
  metric: MetricName;
  at: number;
  value: number;
  mode: 'delta' | 'total';
  user?: string;
}

function readings(events: readonly EventInput[], postId?: string): Reading[] {
  const seen = new Set<string>();
  const out: Reading[] = [];
  for (const e of events) {
    if (seen.has(e.id)) continue; // the pipeline keeps one event per id
    seen.add(e.id);
    const at = Date.parse(e.occurredAt);
    const post = 'postId' in e && e.postId ? e.postId : '';
    if (postId !== undefined && post !== postId) continue;
    if (e.type === 'engagement') {
      out.push({
        series: `${post}|${e.metric}`,
        metric: e.metric,
        at,
        value: e.value,
        mode: e.mode,
      });
    } else if (e.type === 'profile') {
      for (const [metric, value] of [
        ['followers', e.followers],
        ['following', e.following],
        ['post_count', e.postCount],
      ] as const) {
        out.push({ series: `|${metric}`, metric, at, value, mode: 'total' });
      }
    } else if (e.type === 'app') {
      out.push({
        series: '|app',
        metric: 'app_events',
        at,
        value: 1,
        mode: 'delta',
        user: e.userId,
      });
    }
  }
  return out;
}

/** Value per metric per bucket start, for one account's events (optionally one post). */
export function recount(
  events: readonly EventInput[],
  grain: Grain,
  postId?: string,
): Map<MetricName, Map<number, number>> {
  const result = new Map<MetricName, Map<number, number>>();
  const add = (metric: MetricName, bucket: number, v: number) => {
    const m = result.get(metric) ?? new Map<number, number>();
    m.set(bucket, (m.get(bucket) ?? 0) + v);
    result.set(metric, m);
  };
  const all = readings(events, postId);
  const totals = new Map<string, Reading[]>();
  const users = new Map<number, Set<string>>();
  for (const r of all) {
    if (r.mode === 'delta') add(r.metric, bucketOf(r.at, grain), r.value);
    else totals.set(r.series, [...(totals.get(r.series) ?? []), r]);
    if (r.user) {
      const b = bucketOf(r.at, grain);
      users.set(b, (users.get(b) ?? new Set()).add(r.user));
    }
  }
  for (const list of totals.values()) {
    // Last reading of each bucket, by event time; the change is against the previous bucket's.
    const lastPerBucket = new Map<number, Reading>();
    for (const r of list) {
      const b = bucketOf(r.at, grain);
      const cur = lastPerBucket.get(b);
      if (!cur || r.at > cur.at) lastPerBucket.set(b, r);
    }
    let previous = 0;
    for (const b of [...lastPerBucket.keys()].sort((x, y) => x - y)) {
      const r = lastPerBucket.get(b)!;
      add(r.metric, b, r.value - previous);
      previous = r.value;
    }
  }
  for (const [b, set] of users) add('unique_users', b, set.size);
  return result;
}

export function distinctUsers(events: readonly EventInput[]): number {
  return new Set(events.flatMap((e) => (e.type === 'app' && e.userId ? [e.userId] : []))).size;
}
