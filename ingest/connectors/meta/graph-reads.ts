// The Graph reads both flavours make the same way, given their edge, fields and metric names: a
// versioned GET on one limiter bucket, a page of a post edge, lifetime insights of many posts.
import { z } from 'zod';
import type { ApiRequest, PlatformApi } from '../connector.ts';
import { answerOf, lifetimeValue, multiInsightsSchema, pagingSchema } from './graph-answers.ts';
import { GRAPH_VERSION } from './graph-protocol.ts';
import type { MetaSource, Metric, NativePost, Totals } from './graph-source.ts';

/** Graph reads at most 50 ids per multi-id request. */
const IDS_PER_CALL = 50;

export type GraphGet = (
  api: PlatformApi,
  path: string,
  query: NonNullable<ApiRequest['query']>,
) => Promise<unknown>;

/** GETs under the Graph version, all on `endpoint`: a BUC allowance spans every endpoint (A.8). */
export function graphGet(endpoint: string): GraphGet {
  return (api, path, query) => api.call({ path: `/${GRAPH_VERSION}${path}`, query, endpoint });
}

/** Reads one page of a post edge (`/published_posts`, `/media`), each item made a post. */
export function postPageReader<T>(options: {
  get: GraphGet;
  /** The edge under the account, e.g. `/media`. */
  edge: string;
  fields: string;
  item: z.ZodType<T>;
  /** Names the answer in errors. */
  what: string;
  toPost: (item: T) => NativePost;
}): MetaSource['posts'] {
  const { get, edge, fields, item, what, toPost } = options;
  const pageSchema = z.object({ data: z.array(item), paging: pagingSchema });
  return async (api, nativeId, { since, until, after, limit }) => {
    const body = await get(api, `/${nativeId}${edge}`, { fields, limit, since, until, after });
    const page = answerOf(pageSchema, body, what);
    return {
      posts: page.data.map((p) => toPost(p)),
      after: page.paging?.cursors?.after,
      // The end of the list is a missing `next`, not a short page (A.6).
      more: page.paging?.next !== undefined,
    };
  };
}

/** Reads lifetime insights of posts, `IDS_PER_CALL` a call, named by `metrics` (Graph → Loupe). */
export function lifetimeTotalsReader(options: {
  get: GraphGet;
  metrics: Readonly<Record<string, Metric>>;
  /** Names the answer in errors. */
  what: string;
}): MetaSource['postTotals'] {
  const { get, metrics, what } = options;
  return async (api, posts) => {
    const totals = new Map<string, Totals>();
    for (let i = 0; i < posts.length; i += IDS_PER_CALL) {
      const ids = posts.slice(i, i + IDS_PER_CALL).map((p) => p.nativeId);
      const body = await get(api, '/insights', {
        ids: ids.join(','),
        metric: Object.keys(metrics).join(','),
        period: 'lifetime',
      });
      const answer = answerOf(multiInsightsSchema, body, what);
      for (const id of ids) {
        const entries = answer[id]?.data ?? [];
        const t: Totals = {};
        for (const [name, metric] of Object.entries(metrics)) {
          const value = lifetimeValue(entries.find((e) => e.name === name));
          if (value !== undefined) t[metric] = value;
        }
        totals.set(id, t);
      }
    }
    return totals;
  };
}
