// The per-post statement every posts analytic starts from: each post's latest version (filtered by
// publish time, platform, media type, hashtag or id), its lifetime metrics from post_metrics, its
// engagements by its own platform's definition (schema/engagement.ts), and the followers its
// account had when it was published (account_followers, ASOF). Callers select from it.
import { ENGAGEMENTS } from '../../schema/engagement.ts';
import { ENGAGEMENT_METRICS, PLATFORMS } from '../../schema/event-envelope.ts';
import type { OlapParams } from '../../lib/olap/olap.port.ts';

export type RateBasis = 'followers' | 'reach' | 'impressions' | 'views';

export type MediaType = 'text' | 'image' | 'video' | 'carousel' | 'link';

export interface PostSelection {
  /** Published in [from, to), ms. */
  from?: number;
  to?: number;
  platforms?: readonly string[];
  mediaTypes?: readonly MediaType[];
  /** A normalised hashtag (see normaliseHashtag). */
  hashtag?: string;
  postIds?: readonly string[];
  accountIds?: readonly string[];
}

const F = "fromUnixTimestamp64Milli({from:Int64}, 'UTC')";
const T = "fromUnixTimestamp64Milli({to:Int64}, 'UTC')";

/** Each platform's engagements as a sum of metric columns, from the one definition. */
const ENGAGEMENTS_SQL = `multiIf(${PLATFORMS.filter((p) => ENGAGEMENTS[p].length > 0)
  .map((p) => `platform = '${p}', ${ENGAGEMENTS[p].map((m) => `m_${m}`).join(' + ')}`)
  .join(', ')}, 0)`;

/** The rate of a basis over the stats columns: null when the denominator is missing or zero. */
export function rateSql(basis: RateBasis): string {
  const denominator = basis === 'followers' ? 'ifNull(followers, 0)' : `m_${basis}`;
  return `if(${denominator} > 0, engagements / ${denominator}, NULL)`;
}

/**
 * `WITH s AS (…)`: one row per selected post with account_id, post_id, platform, media_type,
 * content, url, published_at, published_ms, version, m_<metric> for every counter, engagements and
 * followers (null without a level at or before the publish time); with `hashtags`, also the latest
 * version's hashtags (posts.hashtags, extracted at insert). Each table is read once: in
 * chDB planning dominates small reads, and a CTE is re-run wherever it is referenced, so `s` is
 * meant to be selected from once.
 */
export function postStatsSql(
  sel: PostSelection,
  params: OlapParams,
  options: { hashtags?: boolean } = {},
): string {
  params['org'] = params['org'] ?? '';
  // Filters every table can take before grouping; the rest judge a post's latest version.
  const keys: string[] = ['org_id = {org:String}'];
  const latest: string[] = [];
  if (sel.from !== undefined && sel.to !== undefined) {
    params['from'] = sel.from;
    params['to'] = sel.to;
    latest.push(`published_at >= ${F} AND published_at < ${T}`);
  }
  if (sel.postIds) {
    params['ids'] = [...new Set(sel.postIds)];
    keys.push('post_id IN {ids:Array(String)}');
  }
  if (sel.accountIds) {
    params['accounts'] = [...new Set(sel.accountIds)];
    keys.push('account_id IN {accounts:Array(String)}');
  }
  if (sel.platforms) {
    params['platforms'] = [...sel.platforms];
    latest.push('platform IN {platforms:Array(String)}');
  }
  if (sel.mediaTypes) {
    params['media'] = [...sel.mediaTypes];
    latest.push('media_type IN {media:Array(String)}');
  }
  if (sel.hashtag !== undefined) {
    params['hashtag'] = sel.hashtag;
    // Only when the latest version still carries the hashtag.
    latest.push(`(account_id, post_id, version) IN (
      SELECT account_id, post_id, version FROM post_hashtags
      WHERE org_id = {org:String} AND hashtag = {hashtag:String})`);
  }
  const where = keys.join(' AND ');
  // A metric's lifetime value: its changes plus its latest lifetime total, if any.
  const metricColumns = ENGAGEMENT_METRICS.map(
    (m) => `toFloat64(sumIf(delta_sum, metric = '${m}'))
      + if(sumIf(level_count, metric = '${m}') > 0, toFloat64(argMaxMergeIf(level, metric = '${m}')), 0) AS m_${m}`,
  );
  // Levels from the range's end on are never at or before a post in it.
  const levels = keys.filter((k) => !k.startsWith('post_id'));
  if (sel.from !== undefined && sel.to !== undefined) levels.push(`at < ${T}`);
  return `
    WITH s AS (
      SELECT p.account_id AS account_id, p.post_id AS post_id, p.last.1 AS platform,
             p.last.2 AS media_type, p.last.3 AS content, p.last.4 AS url,
             p.last.5 AS published_at,
             toInt64(toUnixTimestamp64Milli(published_at)) AS published_ms, p.last.6 AS version,
             ${options.hashtags ? 'p.last.7 AS hashtags,' : ''}
             ${ENGAGEMENT_METRICS.map((m) => `m.m_${m} AS m_${m}`).join(', ')},
             ${ENGAGEMENTS_SQL} AS engagements,
             if(f.account_id = '', NULL, toFloat64(f.followers)) AS followers
      FROM (
        -- Each post's latest version; ties on version resolve to one whole row.
        SELECT account_id, post_id,
               argMax((platform, media_type, content, url, published_at, version
                       ${options.hashtags ? ', hashtags' : ''}), version) AS last
        FROM posts
        WHERE ${where}
        GROUP BY account_id, post_id
      ) AS p
      LEFT JOIN (
        SELECT account_id, post_id, ${metricColumns.join(',\n')}
        FROM post_metrics
        WHERE ${where}
        GROUP BY account_id, post_id
      ) AS m ON m.account_id = p.account_id AND m.post_id = p.post_id
      ASOF LEFT JOIN (
        SELECT account_id, at, followers
        FROM account_followers FINAL
        WHERE ${levels.join(' AND ')}
      ) AS f ON f.account_id = p.account_id AND p.last.5 >= f.at
      ${latest.length > 0 ? `WHERE ${latest.join(' AND ')}` : ''}
    )`;
}
