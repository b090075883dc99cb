// The statements a benchmark reads besides the metric series, each for the whole set at once:
// mentions (whole quarter-hours from their rollup, the ends from the events), and the members'
// posts published in a range with their lifetime counters (post-stats.sql.ts). Scoped by the
// caller's organisation; set-reads.ts keeps their answers.
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

interface Scope {
  orgId: string;
  accountIds: readonly string[];
}

/** A mention (a comment event of kind `mention`) of an account, at `t` (ms). */
export interface MentionAt {
  account_id: string;
  t: number;
}

/** Mentions of an account in the quarter-hour starting at `q` (ms). */
export interface MentionQuarter {
  account_id: string;
  q: number;
  n: number;
}

const instant = (name: string) => `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;

/** Each mention of the accounts in [from, to), from the events; a repeated event id counts once. */
export function readMentionTimes(
  olap: Olap,
  q: Scope & { from: number; to: number },
): Promise<MentionAt[]> {
  return olap.query<MentionAt>(
    `SELECT account_id, toInt64(toUnixTimestamp64Milli(min(occurred_at))) AS t
     FROM events
     WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
       AND occurred_at >= ${instant('from')} AND occurred_at < ${instant('to')}
       AND type = 'comment' AND JSONExtractString(payload, 'kind') = 'mention'
     GROUP BY account_id, event_id`,
    { org: q.orgId, accounts: [...q.accountIds], from: q.from, to: q.to },
  );
}

/** Mentions per account and whole quarter-hour in [from, to) (both quarter-hours), the rollup's. */
export function readMentionQuarters(
  olap: Olap,
  q: Scope & { from: number; to: number },
): Promise<MentionQuarter[]> {
  return olap.query<MentionQuarter>(
    `SELECT account_id, toInt64(toUnixTimestamp(bucket)) * 1000 AS q, toFloat64(sum(mentions)) AS n
     FROM mentions_quarter_hourly
     WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
       AND bucket >= ${instant('from')} AND bucket < ${instant('to')}
     GROUP BY account_id, q`,
    { org: q.orgId, accounts: [...q.accountIds], from: q.from, to: q.to },
  );
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
  q: Scope & { from: number; to: number },
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
