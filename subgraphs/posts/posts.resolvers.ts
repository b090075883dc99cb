// Resolvers of the posts subgraph: Account.posts, Post, comments and full-text search. Every
// lookup is batched per request and scoped by the caller's organisation, never by arguments.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput, graphqlError, type ErrorCode } from '../../lib/graphql/errors.ts';
import { perRequest } from '../../lib/graphql/request-scope.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import type { Logger } from '../../lib/logger.ts';
import { MAX_SEARCH_WORDS, searchWords } from '../../lib/search/search-words.ts';
import type { SearchIndex, SearchQuery, TextKind } from '../../lib/search/search.port.ts';
import type {
  Comment,
  Post,
  PostPage,
  PostPageArgs,
  PostPosition,
  PostsStore,
  PublishedRange,
} from './posts.store.ts';

export const MAX_PAGE = 100;
/** Longer search texts are refused before they reach the index. */
export const MAX_SEARCH_TEXT = 1000;
export const MAX_SEARCH_ACCOUNTS = 100;

interface Range {
  from: number;
  to: number;
}

interface SearchArgs {
  text: string;
  accountIds?: string[] | null;
  kinds?: TextKind[] | null;
  range?: Range | null;
  first: number;
}

interface SearchHitValue {
  kind: TextKind;
  id: string;
  account: AccountReference;
  postId: string | null;
  text: string;
  sentiment: number;
  at: number;
}

interface AccountReference {
  __typename: 'Account';
  id: string;
}

interface Loaders {
  post: DataLoader<string, Post | null>;
  pages: Map<string, DataLoader<string, PostPage>>;
  counts: Map<string, DataLoader<string, number>>;
  comments: Map<number, DataLoader<string, Comment[]>>;
}

/** What Account.posts returns: each connection field loads only what it needs. */
interface ConnectionValue {
  accountId: string;
  page: PostPageArgs;
  range: PublishedRange;
}

function checkFirst(name: string, first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw badInput(`${name} must be between 1 and ${MAX_PAGE}, got ${first}`);
  }
  return first;
}

function checkRange(range: Range | null | undefined): Range | undefined {
  if (!range) return undefined;
  if (range.from > range.to) throw badInput('range.from must not be after range.to');
  return range;
}

/** Cursors are opaque to callers: base64url of the last post's publish time and id. */
export function encodeCursor(post: PostPosition): string {
  return Buffer.from(JSON.stringify([post.publishedAt, post.id])).toString('base64url');
}

export function decodeCursor(cursor: string): PostPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return { publishedAt: value[0] as number, id: value[1] };
    }
  } catch {
    // Not JSON: reported below like any other foreign string.
  }
  throw badInput('after is not a cursor returned by this API');
}

function accountReference(id: string): AccountReference {
  return { __typename: 'Account', id };
}

export function postsResolvers(deps: {
  store: PostsStore;
  search?: SearchIndex;
  /** Told once when the search index stops answering and once when it answers again. */
  logger?: Logger;
}) {
  const { store, search, logger } = deps;
  // Inputs are checked before the index is asked, so its failures are outages: one log line per
  // outage, and a field error callers can act on instead of a masked internal error.
  let searchDown = false;
  const searchIndex = async (index: SearchIndex, query: SearchQuery) => {
    try {
      const found = await index.search(query);
      if (searchDown) logger?.info('posts: search index answers again');
      searchDown = false;
      return found;
    } catch (error) {
      if (!searchDown) {
        if (logger) logger.warn({ err: error }, 'posts: search index unreachable');
        else process.emitWarning(`posts: search index unreachable: ${String(error)}`);
      }
      searchDown = true;
      // No HTTP status on this one: a single failed field must not make the partial answer a 503.
      throw new GraphQLError('search is unavailable right now; retry later', {
        extensions: { code: 'UNAVAILABLE' satisfies ErrorCode },
      });
    }
  };
  // One set of loaders per request.
  const loaders = perRequest((ctx): Loaders => {
    const org = ctx.caller.orgId;
    return {
      post: new DataLoader((ids) => store.byIds(org, ids)),
      pages: new Map(),
      counts: new Map(),
      comments: new Map(),
    };
  });
  // Accounts asking for the same page share one loader, so a list of accounts is one query.
  const pageLoader = (ctx: SubgraphContext, args: PostPageArgs) => {
    const all = loaders(ctx).pages;
    const key = JSON.stringify(args);
    let loader = all.get(key);
    if (!loader) {
      loader = new DataLoader((ids) => store.pages(ctx.caller.orgId, ids, args));
      all.set(key, loader);
    }
    return loader;
  };
  const countLoader = (ctx: SubgraphContext, range: PublishedRange) => {
    const all = loaders(ctx).counts;
    const key = JSON.stringify(range);
    let loader = all.get(key);
    if (!loader) {
      loader = new DataLoader((ids) => store.counts(ctx.caller.orgId, ids, range));
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

  return {
    DateTime: DateTimeScalar,
    TextKind: { POST: 'post', COMMENT: 'comment', MENTION: 'mention' },
    Query: {
      post: (_: unknown, args: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).post.load(args.id),

      async search(_: unknown, args: SearchArgs, ctx: SubgraphContext) {
        if (!search) throw graphqlError('UNAVAILABLE', 'search is not configured on this server');
        const first = checkFirst('first', args.first);
        const range = checkRange(args.range);
        if (args.text.trim().length === 0) throw badInput('text must not be empty');
        if (args.text.length > MAX_SEARCH_TEXT) {
          throw badInput(`text must be at most ${MAX_SEARCH_TEXT} characters`);
        }
        const words = searchWords(args.text);
        if (words.length === 0) throw badInput('text must contain at least one letter or digit');
        if (words.length > MAX_SEARCH_WORDS) {
          throw badInput(`text must have at most ${MAX_SEARCH_WORDS} distinct words`);
        }
        if ((args.accountIds?.length ?? 0) > MAX_SEARCH_ACCOUNTS) {
          throw badInput(`accountIds must name at most ${MAX_SEARCH_ACCOUNTS} accounts`);
        }
        const { total, hits } = await searchIndex(search, {
          orgId: ctx.caller.orgId,
          text: args.text,
          ...(args.accountIds && { accountIds: args.accountIds }),
          ...(args.kinds && { kinds: args.kinds }),
          ...(range && { from: range.from, to: range.to }),
          limit: first,
        });
        return {
          total,
          hits: hits.map(({ document: d }): SearchHitValue => ({
            kind: d.kind,
            id: d.id,
            account: accountReference(d.accountId),
            postId: d.postId,
            text: d.text,
            sentiment: d.sentiment,
            at: d.at,
          })),
        };
      },
    },
    SearchHit: {
      post: (hit: SearchHitValue, _: unknown, ctx: SubgraphContext) =>
        hit.postId === null ? null : loaders(ctx).post.load(hit.postId),
    },
    Account: {
      // Any account id is a valid reference: its posts are read for the caller's org only.
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      posts(
        account: { id: string },
        args: { range?: Range | null; first: number; after?: string | null },
      ): ConnectionValue {
        const checked = checkRange(args.range);
        const range = checked ? { from: checked.from, to: checked.to } : {};
        return {
          accountId: account.id,
          range,
          page: {
            ...range,
            first: checkFirst('first', args.first),
            ...(args.after != null && { after: decodeCursor(args.after) }),
          },
        };
      },
    },
    PostConnection: {
      nodes: async (c: ConnectionValue, _: unknown, ctx: SubgraphContext) =>
        (await pageLoader(ctx, c.page).load(c.accountId)).nodes,
      totalCount: (c: ConnectionValue, _: unknown, ctx: SubgraphContext) =>
        countLoader(ctx, c.range).load(c.accountId),
      async endCursor(c: ConnectionValue, _: unknown, ctx: SubgraphContext) {
        const page = await pageLoader(ctx, c.page).load(c.accountId);
        const last = page.nodes.at(-1);
        return page.hasMore && last ? encodeCursor(last) : null;
      },
    },
    Post: {
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) =>
        loaders(ctx).post.load(ref.id),
      account: (post: Post) => accountReference(post.accountId),
      comments: (post: Post, args: { first: number }, ctx: SubgraphContext) =>
        commentLoader(ctx, checkFirst('first', args.first)).load(post.id),
    },
    Comment: {
      post: (comment: Comment, _: unknown, ctx: SubgraphContext) =>
        comment.postId === null ? null : loaders(ctx).post.load(comment.postId),
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}
