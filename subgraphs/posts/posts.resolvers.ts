// Resolvers of the posts subgraph: Account.posts, Post, comments and full-text search. Every
// lookup is batched per request and scoped by the caller's organisation.
import DataLoader from 'dataloader';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import type { SearchIndex, TextKind } from '../../lib/search/search.port.ts';
import type { Comment, Post, PostPage, PostPageArgs, PostsStore } from './posts.store.ts';

const MAX_PAGE = 100;

interface Range {
  from: number;
  to: number;
}

function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE}`);
  }
  return first;
}

/** Cursors are opaque to callers: base64url of the last post's publish time and id. */
export function encodeCursor(post: Post): string {
  return Buffer.from(JSON.stringify([post.publishedAt, post.id])).toString('base64url');
}

function decodeCursor(cursor: string): { publishedAt: number; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { publishedAt: value[0], id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput('after is not a cursor returned by this API');
}

interface Loaders {
  post: DataLoader<string, Post | null>;
  pages: Map<string, DataLoader<string, PostPage>>;
  comments: Map<number, DataLoader<string, Comment[]>>;
}

export function postsResolvers(deps: { store: PostsStore; search: SearchIndex }) {
  const { store, search } = deps;
  const perRequest = new WeakMap<SubgraphContext, Loaders>();
  const loaders = (ctx: SubgraphContext): Loaders => {
    let l = perRequest.get(ctx);
    if (!l) {
      l = {
        post: new DataLoader((ids) => store.byIds(ctx.caller.orgId, ids)),
        pages: new Map(),
        comments: new Map(),
      };
      perRequest.set(ctx, l);
    }
    return l;
  };
  // Accounts asking for the same page shape share one loader, so a list of accounts is one query.
  const pageLoader = (ctx: SubgraphContext, args: PostPageArgs) => {
    const key = JSON.stringify(args);
    const all = loaders(ctx).pages;
    let loader = all.get(key);
    if (!loader) {
      loader = new DataLoader((ids) => store.pages(ctx.caller.orgId, ids, args));
      all.set(key, loader);
    }
    return loader;
  };
  const commentLoader = (ctx: SubgraphContext, first: number) => {
    const all = loaders(ctx).comments;
    let loader = all.get(first);
    if (!loader) {
      loader = new DataLoader((ids) => store.comments(ctx.caller.orgId, ids, first));
      all.set(first, loader);
    }
    return loader;
  };
  const account = (id: string) => ({ __typename: 'Account', id });

  return {
    DateTime: DateTimeScalar,
    TextKind: { POST: 'post', COMMENT: 'comment', MENTION: 'mention' },
    Query: {
      post: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).post.load(args.id),
      search: async (
        _: unknown,
        args: {
          text: string;
          accountIds?: string[] | null;
          kinds?: TextKind[] | null;
          range?: Range | null;
          first: number;
        },
        ctx: SubgraphContext,
      ) => {
        if (args.text.trim().length === 0) throw badInput('text must not be empty');
        const { total, hits } = await search.search({
          orgId: ctx.caller.orgId,
          text: args.text,
          accountIds: args.accountIds ?? undefined,
          kinds: args.kinds ?? undefined,
          from: args.range?.from,
          to: args.range?.to,
          limit: checkFirst(args.first),
        });
        return {
          total,
          hits: hits.map(({ document: d }) => ({
            kind: d.kind,
            id: d.id,
            account: account(d.accountId),
            postId: d.postId,
            text: d.text,
            sentiment: d.sentiment,
            at: d.at,
          })),
        };
      },
    },
    SearchHit: {
      post: (hit: { postId: string | null }, _: unknown, ctx: SubgraphContext) =>
        hit.postId === null ? null : loaders(ctx).post.load(hit.postId),
    },
    Account: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      posts: async (
        parent: { id: string },
        args: { range?: Range | null; first: number; after?: string | null },
        ctx: SubgraphContext,
      ) => {
        const page = await pageLoader(ctx, {
          first: checkFirst(args.first),
          ...(args.range && { from: args.range.from, to: args.range.to }),
          ...(args.after && { after: decodeCursor(args.after) }),
        }).load(parent.id);
        const last = page.nodes.at(-1);
        return {
          nodes: page.nodes,
          totalCount: page.totalCount,
          endCursor: page.hasMore && last ? encodeCursor(last) : null,
        };
      },
    },
    Post: {
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).post.load(ref.id),
      account: (post: Post) => account(post.accountId),
      comments: (post: Post, args: { first: number }, ctx: SubgraphContext) =>
        commentLoader(ctx, checkFirst(args.first)).load(post.id),
    },
    Comment: {
      post: (comment: Comment, _: unknown, ctx: SubgraphContext) =>
        comment.postId === null ? null : loaders(ctx).post.load(comment.postId),
    },
  };
}
