// The per-post statement every posts analytic starts from: each post's latest version (filtered by
// publish time, platform, media type, hashtag or id), its lifetime metrics from post_metrics, its
// engagements by its own platform's definition (schema/engagement.ts), and the followers its
// account had when it was published (follower_levels, ASOF). Callers select from it.
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
 * `WITH p AS (…), s AS (…)`: `s` has one row per selected post with account_id, post_id,
 * platform, media_type, content, url, published_ms, version, m_<metric> for every counter,
 * engagements and followers (null without a level at or before the publish time).
 */
export function postStatsSql(sel: PostSelection, params: OlapParams): string {
  params['org'] = params['org'] ?? '';
  const candidates: string[] = ['org_id = {org:String}'];
  const latest: string[] = ['1'];
  if (sel.from !== undefined && sel.to !== undefined) {
    params['from'] = sel.from;
    params['to'] = sel.to;
    // Any version published in the range is a candidate; the latest version decides.
    candidates.push(
      `post_id IN (SELECT post_id FROM posts WHERE org_id = {org:String}
                   AND published_at >= ${F} AND published_at < ${T})`,
    );
    latest.push(`published_at >= ${F} AND published_at < ${T}`);
  }
  if (sel.postIds) {
    params['ids'] = [...new Set(sel.postIds)];
    candidates.push('post_id IN {ids:Array(String)}');
  }
  if (sel.accountIds) {
    params['accounts'] = [...new Set(sel.accountIds)];
    candidates.push('account_id IN {accounts:Array(String)}');
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
    const tagged = `SELECT account_id, post_id, version FROM post_hashtags
                    WHERE org_id = {org:String} AND hashtag = {hashtag:String}`;
    candidates.push(`post_id IN (SELECT post_id FROM (${tagged}))`);
    // Only when the latest version still carries the hashtag.
    latest.push(`(account_id, post_id, version) IN (${tagged})`);
  }
  const metricColumns = ENGAGEMENT_METRICS.map((m) => `sumIf(value, metric = '${m}') AS m_${m}`);
  return `
    WITH p AS (
      SELECT * FROM (
        SELECT account_id, post_id, platform, media_type, content, url, published_at, version
        FROM posts
        WHERE ${candidates.join(' AND ')}
        ORDER BY account_id, post_id, version DESC
        LIMIT 1 BY account_id, post_id
      )
      WHERE ${latest.join(' AND ')}
    ),
    m AS (
      SELECT account_id, post_id, ${metricColumns.join(', ')}
      FROM (
        -- A metric's lifetime value: its changes plus its latest lifetime total, if any.
        SELECT account_id, post_id, metric,
               toFloat64(sum(delta_sum)) + if(sum(level_count) > 0, toFloat64(argMaxMerge(level)), 0) AS value
        FROM post_metrics
        WHERE org_id = {org:String} AND (account_id, post_id) IN (SELECT account_id, post_id FROM p)
        GROUP BY account_id, post_id, metric
      )
      GROUP BY account_id, post_id
    ),
    f AS (
      SELECT account_id, at, max(followers) AS followers
      FROM follower_levels
      WHERE org_id = {org:String} AND account_id IN (SELECT account_id FROM p)
      GROUP BY account_id, at
    ),
    s AS (
      SELECT p.account_id AS account_id, p.post_id AS post_id, p.platform AS platform,
             p.media_type AS media_type, p.content AS content, p.url AS url,
             p.published_at AS published_at,
             toInt64(toUnixTimestamp64Milli(p.published_at)) AS published_ms, p.version AS version,
             ${ENGAGEMENT_METRICS.map((m) => `m.m_${m} AS m_${m}`).join(', ')},
             ${ENGAGEMENTS_SQL} AS engagements,
             if(f.account_id = '', NULL, toFloat64(f.followers)) AS followers
      FROM p
      LEFT JOIN m ON m.account_id = p.account_id AND m.post_id = p.post_id
      ASOF LEFT JOIN f ON f.account_id = p.account_id AND p.published_at >= f.at
    )`;
}
