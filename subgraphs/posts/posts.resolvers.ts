// Resolvers of the posts subgraph: Account.posts, Post, comments, sentiment aggregates and
// full-text search. Every lookup is batched per request and scoped by the caller's organisation,
// never by arguments.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { DateTimeScalar } from '../../lib/graphql/date-time.scalar.ts';
import { badInput, graphqlError, type ErrorCode } from '../../lib/graphql/errors.ts';
import { perRequest } from '../../lib/graphql/request-scope.ts';
import type { SubgraphContext } from '../../lib/graphql/subgraph-context.ts';
import type { Logger } from '../../lib/logger.ts';
import { MAX_SEARCH_WORDS, searchWords } from '../../lib/search/search-words.ts';
import type {
  SearchIndex,
  SearchOrder,
  SearchQuery,
  SentimentFilter,
  TextKind,
} from '../../lib/search/search.port.ts';
import { sentimentClass, type SentimentClass } from '../../lib/sentiment/sentiment-class.ts';
import type { ScorerIdentity } from '../../lib/sentiment/sentiment.port.ts';
import type {
  Comment,
  Post,
  PostPage,
  PostPageArgs,
  PostPosition,
  PostsStore,
  PublishedRange,
} from './posts.store.ts';
import {
  addCounts,
  type SentimentBucket,
  type SentimentCounts,
  type SentimentGranularity,
  type SentimentSeriesArgs,
  type SentimentStore,
} from './sentiment.store.ts';

export const MAX_PAGE = 100;
/** Longer search texts are refused before they reach the index. */
export const MAX_SEARCH_TEXT = 1000;
export const MAX_SEARCH_ACCOUNTS = 100;
/** More buckets than this in one sentiment series is refused: 208 days of hours, 13 years of days. */
export const MAX_SENTIMENT_BUCKETS = 5000;

interface Range {
  from: number;
  to: number;
}

interface SentimentFilterInput {
  classes?: SentimentClass[] | null;
  minScore?: number | null;
  maxScore?: number | null;
}

interface SearchArgs {
  text: string;
  accountIds?: string[] | null;
  kinds?: TextKind[] | null;
  range?: Range | null;
  sentiment?: SentimentFilterInput | null;
  orderBy: SearchOrder;
  first: number;
}

interface SentimentSeriesInput {
  range: Range;
  granularity: SentimentGranularity;
  timeZone?: string | null;
}

interface SearchHitValue {
  kind: TextKind;
  id: string;
  account: AccountReference;
  postId: string | null;
  text: string;
  sentiment: number;
  scorer: ScorerIdentity;
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
  comments: Map<string, DataLoader<string, Comment[]>>;
  postSentiment: DataLoader<string, SentimentCounts>;
  accountSentiment: Map<string, DataLoader<string, SentimentBucket[]>>;
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

/** A sentiment filter from its GraphQL input, checked; undefined when absent. */
export function checkSentimentFilter(
  input: SentimentFilterInput | null | undefined,
): SentimentFilter | undefined {
  if (!input) return undefined;
  const bound = (name: string, value: number | null | undefined) => {
    if (value == null) return undefined;
    if (!Number.isFinite(value) || value < -1 || value > 1) {
      throw badInput(`sentiment.${name} must be between -1 and 1, got ${value}`);
    }
    return value;
  };
  const min = bound('minScore', input.minScore);
  const max = bound('maxScore', input.maxScore);
  if (min !== undefined && max !== undefined && min > max) {
    throw badInput('sentiment.minScore must not be above sentiment.maxScore');
  }
  return {
    ...(input.classes != null && { classes: input.classes }),
    ...(min !== undefined && { min }),
    ...(max !== undefined && { max }),
  };
}

async function checkSeries(
  args: SentimentSeriesInput,
  zones: SentimentStore,
  organisationZone: string,
): Promise<SentimentSeriesArgs> {
  const range = checkRange(args.range)!;
  const bucketMs = args.granularity === 'hour' ? 3_600_000 : 86_400_000;
  // Rounded up: a range cut mid-bucket still asks for that bucket.
  if (Math.ceil((range.to - range.from) / bucketMs) > MAX_SENTIMENT_BUCKETS) {
    throw badInput(`range holds more than ${MAX_SENTIMENT_BUCKETS} ${args.granularity} buckets`);
  }
  const timeZone = await zones.timeZone(args.timeZone ?? organisationZone);
  if (timeZone === null) {
    throw badInput(
      `timeZone must be an IANA time zone such as Europe/Paris, got "${args.timeZone}"`,
    );
  }
  return { ...range, granularity: args.granularity, timeZone };
}

/** What SentimentSummary answers from counts: shares and the mean are null without texts. */
export function sentimentSummary(c: SentimentCounts) {
  const share = (n: number) => (c.count === 0 ? null : n / c.count);
  return {
    count: c.count,
    positive: c.positive,
    neutral: c.neutral,
    negative: c.negative,
    positiveShare: share(c.positive),
    neutralShare: share(c.neutral),
    negativeShare: share(c.negative),
    meanScore: share(c.sum),
  };
}

export function postsResolvers(deps: {
  store: PostsStore;
  sentiment: SentimentStore;
  search?: SearchIndex;
  /** Told once when the search index stops answering and once when it answers again. */
  logger?: Logger;
}) {
  const { store, sentiment, search, logger } = deps;
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
      postSentiment: new DataLoader((ids) => sentiment.ofPosts(org, ids)),
      accountSentiment: new Map(),
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
  const commentLoader = (ctx: SubgraphContext, first: number, filter?: SentimentFilter) => {
    const all = loaders(ctx).comments;
    const key = JSON.stringify([first, filter ?? null]);
    let loader = all.get(key);
    if (!loader) {
      loader = new DataLoader((ids) => store.comments(ctx.caller.orgId, ids, first, filter));
      all.set(key, loader);
    }
    return loader;
  };
  const accountSentimentLoader = (ctx: SubgraphContext, args: SentimentSeriesArgs) => {
    const all = loaders(ctx).accountSentiment;
    const key = JSON.stringify(args);
    let loader = all.get(key);
    if (!loader) {
      loader = new DataLoader((ids) => sentiment.ofAccounts(ctx.caller.orgId, ids, args));
      all.set(key, loader);
    }
    return loader;
  };

  return {
    DateTime: DateTimeScalar,
    TextKind: { POST: 'post', COMMENT: 'comment', MENTION: 'mention' },
    SentimentClass: { POSITIVE: 'positive', NEUTRAL: 'neutral', NEGATIVE: 'negative' },
    SentimentGranularity: { HOUR: 'hour', DAY: 'day' },
    SearchOrder: { NEWEST: 'newest', RELEVANCE: 'relevance' },
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
        const filter = checkSentimentFilter(args.sentiment);
        const { total, hits } = await searchIndex(search, {
          orgId: ctx.caller.orgId,
          text: args.text,
          ...(args.accountIds && { accountIds: args.accountIds }),
          ...(args.kinds && { kinds: args.kinds }),
          ...(range && { from: range.from, to: range.to }),
          ...(filter && { sentiment: filter }),
          order: args.orderBy,
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
            scorer: d.scorer,
            at: d.at,
          })),
        };
      },
    },
    SearchHit: {
      post: (hit: SearchHitValue, _: unknown, ctx: SubgraphContext) =>
        hit.postId === null ? null : loaders(ctx).post.load(hit.postId),
      sentimentClass: (hit: SearchHitValue) => sentimentClass(hit.sentiment),
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
      async sentiment(account: { id: string }, args: SentimentSeriesInput, ctx: SubgraphContext) {
        const series = await checkSeries(args, sentiment, ctx.caller.timeZone);
        const buckets = await accountSentimentLoader(ctx, series).load(account.id);
        return {
          granularity: series.granularity,
          timeZone: series.timeZone,
          total: sentimentSummary(addCounts(buckets)),
          buckets: buckets.map((b) => ({ start: b.start, sentiment: sentimentSummary(b) })),
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
      comments: (
        post: Post,
        args: { first: number; sentiment?: SentimentFilterInput | null },
        ctx: SubgraphContext,
      ) =>
        commentLoader(
          ctx,
          checkFirst('first', args.first),
          checkSentimentFilter(args.sentiment),
        ).load(post.id),
      sentiment: async (post: Post, _: unknown, ctx: SubgraphContext) =>
        sentimentSummary(await loaders(ctx).postSentiment.load(post.id)),
    },
    Comment: {
      sentimentClass: (comment: Comment) => sentimentClass(comment.sentiment),
      post: (comment: Comment, _: unknown, ctx: SubgraphContext) =>
        comment.postId === null ? null : loaders(ctx).post.load(comment.postId),
    },
  } satisfies GraphQLResolverMap<SubgraphContext>;
}
