// Reads posts and comments from the OLAP store, many accounts or posts per round trip. Tables are
// ReplacingMergeTree, so every read takes the latest version itself (ORDER BY version DESC
// LIMIT 1 BY key) before filtering: exact before merges, and measured on 1M unmerged rows at about
// 3x faster than FINAL for lookups by id and on a par with it for pages of 24 accounts.
import type { Olap, OlapParams } from '../../lib/olap/olap.port.ts';
import { sentimentRanges, sentimentSql } from '../../lib/search/search-sentiment.ts';
import type { SentimentFilter } from '../../lib/search/search.port.ts';
import type { ScorerIdentity } from '../../lib/sentiment/sentiment.port.ts';

export interface Post {
  id: string;
  accountId: string;
  content: string;
  url: string | null;
  mediaType: string | null;
  publishedAt: number;
}

export interface Comment {
  id: string;
  kind: 'comment' | 'mention';
  postId: string | null;
  text: string;
  authorHandle: string | null;
  at: number;
  sentiment: number;
  scorer: ScorerIdentity;
}

/** A position in an account's posts, newest first: the last post of the previous page. */
export interface PostPosition {
  publishedAt: number;
  id: string;
}

export interface PostPageArgs extends PublishedRange {
  first: number;
  after?: PostPosition;
}

export interface PostPage {
  nodes: Post[];
  hasMore: boolean;
}

export interface PublishedRange {
  /** Inclusive lower bound on publishedAt, ms. */
  from?: number;
  /** Exclusive upper bound on publishedAt, ms. */
  to?: number;
}

export interface PostRow {
  post_id: string;
  account_id: string;
  content: string;
  url: string;
  media_type: string;
  /** 64-bit integers arrive as strings from a ClickHouse server and as numbers from chDB. */
  published_ms: number | string;
}

interface CommentRow {
  id: string;
  kind: 'comment' | 'mention';
  post_id: string;
  text: string;
  author_handle: string;
  at_ms: number | string;
  sentiment: number;
  scorer: string;
  scorer_version: string;
}

/** Latest version of each post of the given accounts (`{org}`, `{accounts}`). */
const LATEST_OF_ACCOUNTS = `
  SELECT account_id, post_id, content, url, media_type, published_at
  FROM posts
  WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
  ORDER BY account_id, post_id, version DESC
  LIMIT 1 BY account_id, post_id`;

const POST_COLUMNS = `post_id, account_id, content, url, media_type,
  toUnixTimestamp64Milli(published_at) AS published_ms`;

function rangeFilter(range: PublishedRange): string {
  const filters = [
    range.from !== undefined && `published_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`,
    range.to !== undefined && `published_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
  ].filter((f) => f !== false);
  return filters.length > 0 ? filters.join(' AND ') : '1';
}

function rangeParams(orgId: string, accountIds: readonly string[], range: PublishedRange) {
  return {
    org: orgId,
    accounts: [...new Set(accountIds)],
    from: range.from ?? 0,
    to: range.to ?? 0,
  };
}

export function toPost(r: PostRow): Post {
  return {
    id: r.post_id,
    accountId: r.account_id,
    content: r.content,
    url: r.url === '' ? null : r.url,
    mediaType: r.media_type === '' ? null : r.media_type,
    publishedAt: Number(r.published_ms),
  };
}

export interface PostsStore {
  /** One page per account, in the order asked, newest first. */
  pages(orgId: string, accountIds: readonly string[], args: PostPageArgs): Promise<PostPage[]>;
  /** The posts of all the given accounts together, newest first (ties by id, descending). */
  feed(
    orgId: string,
    accountIds: readonly string[],
    args: { first: number; after?: PostPosition },
  ): Promise<PostPage>;
  /** Posts per account in the range, in the order asked. */
  counts(orgId: string, accountIds: readonly string[], range: PublishedRange): Promise<number[]>;
  /** One answer per id, in the order asked; null for posts the organisation does not have. */
  byIds(orgId: string, ids: readonly string[]): Promise<(Post | null)[]>;
  /** The newest `first` comments and mentions of each post matching `sentiment`, in the order asked. */
  comments(
    orgId: string,
    postIds: readonly string[],
    first: number,
    sentiment?: SentimentFilter,
  ): Promise<Comment[][]>;
}

export function createPostsStore(olap: Olap): PostsStore {
  return {
    async pages(orgId, accountIds, args) {
      const afterCursor = args.after
        ? `(published_at, post_id) < (fromUnixTimestamp64Milli({afterAt:Int64}, 'UTC'), {afterId:String})`
        : '1';
      // One row past the page says whether another page follows.
      const rows = await olap.query<PostRow>(
        `SELECT ${POST_COLUMNS} FROM (${LATEST_OF_ACCOUNTS})
         WHERE ${rangeFilter(args)} AND ${afterCursor}
         ORDER BY account_id, published_at DESC, post_id DESC
         LIMIT {limit:UInt32} BY account_id`,
        {
          ...rangeParams(orgId, accountIds, args),
          afterAt: args.after?.publishedAt ?? 0,
          afterId: args.after?.id ?? '',
          limit: args.first + 1,
        },
      );
      const byAccount = new Map<string, Post[]>();
      for (const row of rows) {
        const list = byAccount.get(row.account_id) ?? [];
        list.push(toPost(row));
        byAccount.set(row.account_id, list);
      }
      return accountIds.map((id) => {
        const posts = byAccount.get(id) ?? [];
        return { nodes: posts.slice(0, args.first), hasMore: posts.length > args.first };
      });
    },

    async feed(orgId, accountIds, args) {
      const afterCursor = args.after
        ? `(published_at, post_id) < (fromUnixTimestamp64Milli({afterAt:Int64}, 'UTC'), {afterId:String})`
        : '1';
      const rows = await olap.query<PostRow>(
        `SELECT ${POST_COLUMNS} FROM (${LATEST_OF_ACCOUNTS})
         WHERE ${afterCursor}
         ORDER BY published_at DESC, post_id DESC
         LIMIT {limit:UInt32}`,
        {
          ...rangeParams(orgId, accountIds, {}),
          afterAt: args.after?.publishedAt ?? 0,
          afterId: args.after?.id ?? '',
          limit: args.first + 1,
        },
      );
      const posts = rows.map(toPost);
      return { nodes: posts.slice(0, args.first), hasMore: posts.length > args.first };
    },

    async counts(orgId, accountIds, range) {
      const rows = await olap.query<{ account_id: string; n: number | string }>(
        `SELECT account_id, count() AS n FROM (${LATEST_OF_ACCOUNTS})
         WHERE ${rangeFilter(range)} GROUP BY account_id`,
        rangeParams(orgId, accountIds, range),
      );
      const countOf = new Map(rows.map((r) => [r.account_id, Number(r.n)]));
      return accountIds.map((id) => countOf.get(id) ?? 0);
    },

    async byIds(orgId, ids) {
      const rows = await olap.query<PostRow>(
        `SELECT ${POST_COLUMNS} FROM posts
         WHERE org_id = {org:String} AND post_id IN {ids:Array(String)}
         ORDER BY account_id, post_id, version DESC
         LIMIT 1 BY account_id, post_id`,
        { org: orgId, ids: [...new Set(ids)] },
      );
      const byId = new Map(rows.map((r) => [r.post_id, toPost(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    async comments(orgId, postIds, first, sentiment) {
      const params: OlapParams = { org: orgId, posts: [...new Set(postIds)], first };
      const ranges = sentimentRanges(sentiment);
      const bySentiment = ranges ? sentimentSql('sentiment', ranges, params) : '1';
      // Among rows of one version, the latest scored (a re-score) is the one read.
      const rows = await olap.query<CommentRow>(
        `SELECT id, kind, post_id, text, author_handle, round(sentiment, 4) AS sentiment,
                scorer, scorer_version, toUnixTimestamp64Milli(at) AS at_ms
         FROM (
           SELECT id, kind, post_id, text, author_handle, sentiment, scorer, scorer_version, at
           FROM texts
           WHERE org_id = {org:String} AND post_id IN {posts:Array(String)}
           ORDER BY id, version DESC, scored_at DESC
           LIMIT 1 BY id
         )
         WHERE kind != 'post' AND ${bySentiment}
         ORDER BY post_id, at DESC, id DESC
         LIMIT {first:UInt32} BY post_id`,
        params,
      );
      const byPost = new Map<string, Comment[]>();
      for (const r of rows) {
        const list = byPost.get(r.post_id) ?? [];
        list.push({
          id: r.id,
          kind: r.kind,
          postId: r.post_id,
          text: r.text,
          authorHandle: r.author_handle === '' ? null : r.author_handle,
          at: Number(r.at_ms),
          sentiment: r.sentiment,
          scorer: { name: r.scorer, version: r.scorer_version },
        });
        byPost.set(r.post_id, list);
      }
      return postIds.map((id) => byPost.get(id) ?? []);
    },
  };
}
