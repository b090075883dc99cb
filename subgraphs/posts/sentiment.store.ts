// Sentiment aggregates of comments and mentions from the OLAP `texts` table: per post, and per
// account over a range, in total and per hour or day of a time zone. Every read takes the latest
// revision of each text (version, then scored_at, as a re-score rewrites at the same version).
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import { SENTIMENT_THRESHOLDS } from '../../lib/sentiment/sentiment-class.ts';

export interface SentimentCounts {
  count: number;
  positive: number;
  neutral: number;
  negative: number;
  /** Sum of the scores, so summaries add up exactly across buckets. */
  sum: number;
}

export interface SentimentBucket extends SentimentCounts {
  /** Epoch ms of the bucket's start. */
  start: number;
}

export type SentimentGranularity = 'hour' | 'day';

export interface SentimentSeriesArgs {
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
  granularity: SentimentGranularity;
  /** An IANA zone that the buckets are cut in. */
  timeZone: string;
}

export interface SentimentStore {
  /** The engine's name for an IANA zone given in any case, or null when it has no such zone. */
  timeZone(name: string): Promise<string | null>;
  /** One summary per post, in the order asked; zero counts for posts without comments. */
  ofPosts(orgId: string, postIds: readonly string[]): Promise<SentimentCounts[]>;
  /** Each account's buckets with texts, oldest first, in the order asked. */
  ofAccounts(
    orgId: string,
    accountIds: readonly string[],
    args: SentimentSeriesArgs,
  ): Promise<SentimentBucket[][]>;
}

interface CountsRow {
  key: string;
  bucket_ms?: number | string;
  n: number | string;
  positive: number | string;
  negative: number | string;
  total: number;
}

/**
 * Class counts of the latest comments and mentions: `select` picks candidates by key, `keep`
 * filters their latest revisions (a time range must be judged on the latest, as an edit moves it).
 */
const countsSql = (select: string, keep: string, key: string, bucket: string | null) => `
  SELECT ${key} AS key, ${bucket ? `${bucket} AS bucket_ms,` : ''}
         count() AS n,
         countIf(sentiment >= toFloat32({positive:Float64})) AS positive,
         countIf(sentiment <= toFloat32({negative:Float64})) AS negative,
         sum(round(toFloat64(sentiment), 4)) AS total
  FROM (
    SELECT id, kind, account_id, post_id, sentiment, at FROM texts
    WHERE org_id = {org:String} AND ${select}
    ORDER BY id, version DESC, scored_at DESC
    LIMIT 1 BY id
  )
  WHERE kind != 'post' AND ${keep}
  GROUP BY key${bucket ? ', bucket_ms ORDER BY key, bucket_ms' : ''}`;

const thresholds = (): OlapParams => ({
  positive: SENTIMENT_THRESHOLDS.positive,
  negative: SENTIMENT_THRESHOLDS.negative,
});

function toCounts(r: CountsRow): SentimentCounts {
  const count = Number(r.n);
  const positive = Number(r.positive);
  const negative = Number(r.negative);
  return { count, positive, negative, neutral: count - positive - negative, sum: Number(r.total) };
}

export const NO_TEXTS: SentimentCounts = { count: 0, positive: 0, neutral: 0, negative: 0, sum: 0 };

export function createSentimentStore(olap: Olap): SentimentStore {
  // The zones the engine that cuts the buckets knows, read once: its list, not Node's, decides.
  let zones: Promise<Map<string, string>> | undefined;
  const loadZones = async () => {
    const rows = await olap.query<{ time_zone: string }>('SELECT time_zone FROM system.time_zones');
    return new Map(rows.map((r) => [r.time_zone.toLowerCase(), r.time_zone]));
  };
  return {
    async timeZone(name) {
      zones ??= loadZones().catch((error: unknown) => {
        zones = undefined;
        throw error;
      });
      return (await zones).get(name.toLowerCase()) ?? null;
    },

    async ofPosts(orgId, postIds) {
      const rows = await olap.query<CountsRow>(
        countsSql('post_id IN {posts:Array(String)}', '1', 'post_id', null),
        { ...thresholds(), org: orgId, posts: [...new Set(postIds)] },
      );
      const byPost = new Map(rows.map((r) => [r.key, toCounts(r)]));
      return postIds.map((id) => byPost.get(id) ?? NO_TEXTS);
    },

    async ofAccounts(orgId, accountIds, { from, to, granularity, timeZone }) {
      const start = granularity === 'hour' ? 'toStartOfHour' : 'toStartOfDay';
      const rows = await olap.query<CountsRow>(
        countsSql(
          'account_id IN {accounts:Array(String)}',
          `at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
           AND at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
          'account_id',
          `toUnixTimestamp(${start}(at, {tz:String})) * 1000`,
        ),
        { ...thresholds(), org: orgId, accounts: [...new Set(accountIds)], from, to, tz: timeZone },
      );
      const byAccount = new Map<string, SentimentBucket[]>();
      for (const r of rows) {
        const list = byAccount.get(r.key) ?? [];
        list.push({ start: Number(r.bucket_ms), ...toCounts(r) });
        byAccount.set(r.key, list);
      }
      return accountIds.map((id) => byAccount.get(id) ?? []);
    },
  };
}

/** The sum of several counts: a series' total from its buckets. */
export function addCounts(parts: readonly SentimentCounts[]): SentimentCounts {
  return parts.reduce(
    (a, b) => ({
      count: a.count + b.count,
      positive: a.positive + b.positive,
      neutral: a.neutral + b.neutral,
      negative: a.negative + b.negative,
      sum: a.sum + b.sum,
    }),
    NO_TEXTS,
  );
}
