// Reads posts and comments from the OLAP store, batched across accounts and posts.
import type { Olap } from '../../lib/olap/olap.port.ts';

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
}

export interface PostPageArgs {
  from?: number;
  to?: number;
  first: number;
  /** Position after which the page starts: the last post of the previous page. */
  after?: { publishedAt: number; id: string };
}

export interface PostPage {
  nodes: Post[];
  totalCount: number;
  hasMore: boolean;
}

interface PostRow {
  post_id: string;
  account_id: string;
  content: string;
  url: string;
  media_type: string;
  published_at: number;
}

const POST_COLUMNS = `post_id, account_id, content, url, media_type,
  toInt64(toUnixTimestamp64Milli(published_at)) AS published_at`;

function toPost(r: PostRow): Post {
  return {
    id: r.post_id,
    accountId: r.account_id,
    content: r.content,
    url: r.url === '' ? null : r.url,
    mediaType: r.media_type === '' ? null : r.media_type,
    publishedAt: Number(r.published_at),
  };
}

export function createPostsStore(olap: Olap) {
  return {
    /** One page per account, newest first, for many accounts in two round trips. */
    async pages(
      orgId: string,
      accountIds: readonly string[],
      args: PostPageArgs,
    ): Promise<PostPage[]> {
      const range = [
        args.from !== undefined
          ? "published_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')"
          : '',
        args.to !== undefined ? "published_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')" : '',
      ].filter(Boolean);
      const where = ['org_id = {org:String}', 'account_id IN {ids:Array(String)}', ...range];
      const after = args.after
        ? ['(toUnixTimestamp64Milli(published_at), post_id) < ({afterAt:Int64}, {afterId:String})']
        : [];
      const params = {
        org: orgId,
        ids: [...accountIds],
        from: args.from ?? 0,
        to: args.to ?? 0,
        afterAt: args.after?.publishedAt ?? 0,
        afterId: args.after?.id ?? '',
        limit: args.first + 1,
      };
      const [rows, counts] = await Promise.all([
        olap.query<PostRow>(
          `SELECT ${POST_COLUMNS} FROM posts FINAL
           WHERE ${[...where, ...after].join(' AND ')}
           ORDER BY account_id, published_at DESC, post_id DESC
           LIMIT {limit:UInt32} BY account_id`,
          params,
        ),
        olap.query<{ account_id: string; n: number }>(
          `SELECT account_id, toFloat64(count()) AS n FROM posts FINAL WHERE ${where.join(' AND ')} GROUP BY account_id`,
          params,
        ),
      ]);
      const countOf = new Map(counts.map((c) => [c.account_id, c.n]));
      return accountIds.map((id) => {
        const mine = rows.filter((r) => r.account_id === id).map(toPost);
        return {
          nodes: mine.slice(0, args.first),
          totalCount: countOf.get(id) ?? 0,
          hasMore: mine.length > args.first,
        };
      });
    },

    async byIds(orgId: string, ids: readonly string[]): Promise<(Post | null)[]> {
      const rows = await olap.query<PostRow>(
        `SELECT ${POST_COLUMNS} FROM posts FINAL WHERE org_id = {org:String} AND post_id IN {ids:Array(String)}`,
        { org: orgId, ids: [...ids] },
      );
      const byId = new Map(rows.map((r) => [r.post_id, toPost(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    /** Newest comments and mentions of each post. */
    async comments(orgId: string, postIds: readonly string[], first: number): Promise<Comment[][]> {
      const rows = await olap.query<{
        id: string;
        kind: 'comment' | 'mention';
        post_id: string;
        text: string;
        author_handle: string;
        at: number;
        sentiment: number;
      }>(
        `SELECT id, kind, post_id, text, author_handle, toInt64(toUnixTimestamp64Milli(at)) AS at, sentiment
         FROM texts FINAL
         WHERE org_id = {org:String} AND post_id IN {ids:Array(String)} AND kind != 'post'
         ORDER BY post_id, at DESC, id
         LIMIT {first:UInt32} BY post_id`,
        { org: orgId, ids: [...postIds], first },
      );
      return postIds.map((postId) =>
        rows
          .filter((r) => r.post_id === postId)
          .map((r) => ({
            id: r.id,
            kind: r.kind,
            postId: r.post_id,
            text: r.text,
            authorHandle: r.author_handle === '' ? null : r.author_handle,
            at: Number(r.at),
            sentiment: r.sentiment,
          })),
      );
    },
  };
}

export type PostsStore = ReturnType<typeof createPostsStore>;
