// The two statements a benchmark reads besides the metric series, each for the whole set at once:
// mentions per member and bucket, and the members' posts published in the range with their
// lifetime counters (post-stats.sql.ts). Scoped by the caller's organisation.
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import { ENGAGEMENT_METRICS, type Platform } from '../../schema/event-envelope.ts';
import { postStatsSql } from '../posts/post-stats.sql.ts';

export type PostCounter = (typeof ENGAGEMENT_METRICS)[number];

export interface SetPost {
  accountId: string;
  postId: string;
  platform: Platform;
  publishedMs: number;
  engagements: number;
  /** The account's followers when the post went out; null without a level by then. */
  followers: number | null;
  lifetime: Record<PostCounter, number>;
}

interface MentionRow {
  account_id: string;
  i: number;
  n: number;
}

const QUARTER_MS = 15 * 60_000;

/**
 * Mentions (comment events of kind `mention`) of each account in [from, to), per bucket index of
 * `bucketStarts`. Whole quarter-hours come from the mentions rollup; the range's ends inside a
 * quarter-hour from the events themselves. Every zone offset is a whole number of quarter-hours,
 * so a quarter-hour lies in one bucket: counts are per quarter-hour first, each placed once.
 */
export async function readMentions(
  olap: Olap,
  q: { orgId: string; accountIds: readonly string[]; from: number; to: number },
  bucketStarts: readonly number[],
): Promise<Map<string, number[]>> {
  // [lo, hi): the whole quarter-hours inside the range; empty when it holds none.
  const lo = Math.ceil(q.from / QUARTER_MS) * QUARTER_MS;
  const hi = Math.max(lo, Math.floor(q.to / QUARTER_MS) * QUARTER_MS);
  const instant = (name: string) => `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;
  const rows = await olap.query<MentionRow>(
    `SELECT account_id, toInt64(arrayLastIndex(b -> b <= q, {starts:Array(Int64)})) - 1 AS i,
            toFloat64(sum(n)) AS n
     FROM (
       SELECT account_id, toInt64(toUnixTimestamp(bucket)) * 1000 AS q, sum(mentions) AS n
       FROM mentions_quarter_hourly
       WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
         AND bucket >= ${instant('lo')} AND bucket < ${instant('hi')}
       GROUP BY account_id, q
       UNION ALL
       SELECT account_id,
              toInt64(toUnixTimestamp(toStartOfFifteenMinutes(occurred_at))) * 1000 AS q,
              uniqExact(event_id) AS n
       FROM events
       WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
         AND ((occurred_at >= ${instant('from')} AND occurred_at < ${instant('edgeLo')})
           OR (occurred_at >= ${instant('edgeHi')} AND occurred_at < ${instant('to')}))
         AND type = 'comment' AND JSONExtractString(payload, 'kind') = 'mention'
       GROUP BY account_id, q
     )
     GROUP BY account_id, i`,
    {
      org: q.orgId,
      accounts: [...q.accountIds],
      from: q.from,
      to: q.to,
      lo,
      hi,
      // A range inside one quarter-hour is all edge: read from the events whole.
      edgeLo: lo < hi ? lo : q.to,
      edgeHi: lo < hi ? hi : q.to,
      starts: [...bucketStarts],
    },
  );
  const counts = new Map<string, number[]>();
  for (const r of rows) {
    let list = counts.get(r.account_id);
    if (!list) counts.set(r.account_id, (list = new Array<number>(bucketStarts.length).fill(0)));
    if (r.i >= 0 && r.i < list.length) list[r.i]! += r.n;
  }
  return counts;
}

type PostRow = {
  account_id: string;
  post_id: string;
  platform: string;
  published_ms: number;
  engagements: number;
  followers: number | null;
} & Record<`m_${string}`, number>;

/** Every post the accounts published in [from, to), with its lifetime counters: one statement. */
export async function readSetPosts(
  olap: Olap,
  q: { orgId: string; accountIds: readonly string[]; from: number; to: number },
): Promise<SetPost[]> {
  const params: OlapParams = { org: q.orgId };
  const sql = `${postStatsSql({ from: q.from, to: q.to, accountIds: q.accountIds }, params)}
    SELECT account_id, post_id, platform, published_ms, toFloat64(engagements) AS engagements,
           followers, ${ENGAGEMENT_METRICS.map((m) => `m_${m}`).join(', ')}
    FROM s`;
  const rows = await olap.query<PostRow>(sql, params);
  return rows.map((r) => {
    const lifetime = {} as Record<PostCounter, number>;
    for (const m of ENGAGEMENT_METRICS) lifetime[m] = Number(r[`m_${m}`] ?? 0);
    return {
      accountId: r.account_id,
      postId: r.post_id,
      platform: r.platform as Platform,
      publishedMs: Number(r.published_ms),
      engagements: Number(r.engagements),
      followers: r.followers === null ? null : Number(r.followers),
      lifetime,
    };
  });
}
