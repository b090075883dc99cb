// Sentiment aggregates, filters and relevance through the posts subgraph, on chDB, checked
// against a recount of the texts as sent: the latest revision of each comment, its VADER score,
// and classes and buckets computed here with plain arithmetic, not the product's code.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toEventRow } from '../../ingest/pipeline/event-rows.ts';
import { createTextConsumer } from '../../ingest/pipeline/text.consumer.ts';
import { createApiKeyAuthenticator } from '../../lib/auth/api-key.auth.ts';
import type { Authenticator } from '../../lib/auth/caller.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import { createApiKey, createOrganisation } from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import { createClickHouseSearch } from '../../lib/search/clickhouse.search.ts';
import { createVaderScorer } from '../../lib/sentiment/vader.sentiment.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { rngFor, pick, intBetween, chance } from '../../scripts/demo/demo-random.ts';
import { postAsGateway, testTokens } from '../../test/support/graphql-http.ts';
import { createPostsSubgraph } from './server.ts';
import { eventsBatch } from '../../test/support/events-batch.ts';

const T0 = Date.UTC(2026, 5, 1, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const POSTS = ['a1-p0', 'a1-p1', 'a1-p2', 'a2-p0', 'a2-p1', 'a2-p2'];
const TEXTS = [
  'I love these sneakers, great quality!',
  'Worst update ever, the app keeps crashing',
  'The parcel arrived on Tuesday',
  'not bad at all',
  'terrible support, still no refund',
  'great colours and a great fit',
  'where is the store',
  'hate the new logo',
  'ok',
  'AMAZING launch!!!',
];

let olap: Olap;
let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let orgA: string;
let orgB: string;
let keyA: string;
let keyB: string;

/** The comments as sent: every revision, in send order. */
const sent: { orgId: string; event: Extract<EventInput, { type: 'comment' }> }[] = [];
const scores = new Map<string, number>();

function comment(
  accountId: string,
  commentId: string,
  at: number,
  text: string,
  postId: string | undefined,
  kind: 'comment' | 'mention' = 'comment',
) {
  return {
    id: `ev-${commentId}-${at}`,
    type: 'comment',
    kind,
    platform: 'instagram',
    accountId,
    commentId,
    text,
    occurredAt: iso(at),
    ...(postId !== undefined && { postId }),
  } satisfies EventInput;
}

function postEvent(accountId: string, postId: string) {
  return {
    id: `ev-${postId}`,
    type: 'post',
    action: 'published',
    platform: 'instagram',
    accountId,
    postId,
    content: `caption of ${postId}, which is great`,
    publishedAt: iso(T0),
    occurredAt: iso(T0),
  } satisfies EventInput;
}

/** What the OLAP sink and the text pipeline do with these events. */
async function ingest(orgId: string, events: EventInput[]): Promise<void> {
  await olap.insert(
    'events',
    events.map((event) => toEventRow({ orgId, receivedAt: T0, event })),
  );
  const text = createTextConsumer({
    olap,
    search: createClickHouseSearch(olap),
    sentiment: { scorer: createVaderScorer(), batchSize: 64 },
  });
  for (const e of events) if (e.type === 'comment') sent.push({ orgId, event: e });
  await text.handleBatch(eventsBatch(orgId, events, T0));
}

// --- the recount ---------------------------------------------------------------------------

interface Latest {
  orgId: string;
  accountId: string;
  postId: string | undefined;
  id: string;
  at: number;
  score: number;
}

/** The latest revision of each comment or mention (highest occurredAt), with its score. */
function latestTexts(orgId: string): Latest[] {
  const latest = new Map<string, Latest>();
  for (const { orgId: org, event } of sent) {
    if (org !== orgId) continue;
    const at = Date.parse(event.occurredAt);
    const seen = latest.get(event.commentId);
    if (seen && seen.at > at) continue;
    latest.set(event.commentId, {
      orgId,
      accountId: event.accountId,
      postId: event.postId,
      id: event.commentId,
      at,
      score: scores.get(event.text)!,
    });
  }
  return [...latest.values()];
}

function recount(texts: readonly Latest[]) {
  const positive = texts.filter((t) => t.score >= 0.05).length;
  const negative = texts.filter((t) => t.score <= -0.05).length;
  const count = texts.length;
  const sum = texts.reduce((a, t) => a + t.score, 0);
  return {
    count,
    positive,
    negative,
    neutral: count - positive - negative,
    positiveShare: count ? positive / count : null,
    neutralShare: count ? (count - positive - negative) / count : null,
    negativeShare: count ? negative / count : null,
    meanScore: count ? sum / count : null,
  };
}

type Summary = ReturnType<typeof recount>;

function expectSummary(actual: Summary | undefined, expected: Summary, label: string) {
  expect(actual, label).toBeDefined();
  const { meanScore, positiveShare, neutralShare, negativeShare, ...counts } = actual!;
  const { meanScore: m, positiveShare: p, neutralShare: n, negativeShare: g, ...want } = expected;
  expect(counts, label).toEqual(want);
  for (const [got, wanted] of [
    [meanScore, m],
    [positiveShare, p],
    [neutralShare, n],
    [negativeShare, g],
  ] as const) {
    if (wanted === null) expect(got, label).toBeNull();
    else expect(got, label).toBeCloseTo(wanted, 5);
  }
}

/** Bucket start in a fixed-offset zone: floor in local time, back to an instant. */
function bucketStart(ms: number, size: number, offsetMs: number): number {
  return Math.floor((ms + offsetMs) / size) * size - offsetMs;
}

// --- setup ---------------------------------------------------------------------------------

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-sentiment-')) });
  await applyOlapSchema(olap);
  await olap.command('SYSTEM STOP MERGES texts');
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  orgA = await createOrganisation(meta, 'A');
  orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');

  const vader = createVaderScorer();
  const all = [...TEXTS, 'B only: secret praise, wonderful'];
  (await vader.score(all)).forEach((s, i) => scores.set(all[i]!, s));

  // 400 comments and mentions over three days on two accounts and six posts, at random minutes.
  const rng = rngFor(7, 'sentiment-test');
  const events: EventInput[] = POSTS.map((id) => postEvent(id.slice(0, 2), id));
  for (let i = 0; i < 400; i++) {
    const account = chance(rng, 0.7) ? 'a1' : 'a2';
    const post = chance(rng, 0.1) ? undefined : `${account}-p${intBetween(rng, 0, 2)}`;
    events.push(
      comment(
        account,
        `c${i}`,
        T0 + intBetween(rng, 0, 3 * DAY - 1),
        pick(rng, TEXTS),
        post,
        post === undefined ? 'mention' : 'comment',
      ),
    );
  }
  await ingest(orgA, events);
  // Edits in a later part: 40 comments change text and move by up to a day.
  const edits: EventInput[] = [];
  for (let i = 0; i < 400; i += 10) {
    const before = events[POSTS.length + i] as Extract<EventInput, { type: 'comment' }>;
    const at = Date.parse(before.occurredAt) + intBetween(rng, 1, DAY);
    edits.push({ ...before, id: `${before.id}-edit`, text: pick(rng, TEXTS), occurredAt: iso(at) });
  }
  await ingest(orgA, edits);
  // Organisation B uses the same account and post ids.
  await ingest(orgB, [
    postEvent('a1', 'a1-p0'),
    comment('a1', 'b1', T0 + HOUR, 'B only: secret praise, wonderful', 'a1-p0'),
    comment('a1', 'b2', T0 + 2 * HOUR, 'B only: secret praise, wonderful', 'a1-p0'),
  ]);

  const subgraph = createPostsSubgraph({
    olap,
    search: createClickHouseSearch(olap),
    tokens: testTokens,
  });
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await served?.close();
  await meta?.close();
  await olap?.close();
});

const gql = <T>(key: string, query: string, variables: Record<string, unknown> = {}) =>
  postAsGateway<T>(authenticate, served.url, key, query, variables);

const SUMMARY = `count positive neutral negative positiveShare neutralShare negativeShare meanScore`;

// --- tests ---------------------------------------------------------------------------------

describe('Post.sentiment', () => {
  test('equals a recount of the latest comments and mentions on each post', async () => {
    const reply = await gql<{ _entities: ({ id: string; sentiment: Summary } | null)[] }>(
      keyA,
      `query ($reps: [_Any!]!) { _entities(representations: $reps) {
         ... on Post { id sentiment { ${SUMMARY} } } } }`,
      { reps: POSTS.map((id) => ({ __typename: 'Post', id })) },
    );
    expect(reply.errors).toBeUndefined();
    const texts = latestTexts(orgA);
    POSTS.forEach((id, i) => {
      const expected = recount(texts.filter((t) => t.postId === id));
      expect(expected.count).toBeGreaterThan(20);
      expectSummary(reply.data?._entities[i]?.sentiment, expected, id);
    });
  });

  test("another organisation's post of the same id counts only its own texts", async () => {
    const reply = await gql<{ post: { sentiment: Summary } | null }>(
      keyB,
      `{ post(id: "a1-p0") { sentiment { ${SUMMARY} } } }`,
    );
    expectSummary(reply.data?.post?.sentiment, recount(latestTexts(orgB)), 'B');
    expect(reply.data?.post?.sentiment.count).toBe(2);
  });
});

const SERIES = /* GraphQL */ `
  query ($reps: [_Any!]!, $range: TimeRange!, $g: SentimentGranularity!, $tz: String) {
    _entities(representations: $reps) {
      ... on Account {
        id
        sentiment(range: $range, granularity: $g, timeZone: $tz) {
          granularity
          timeZone
          total { ${SUMMARY} }
          buckets { start sentiment { ${SUMMARY} } }
        }
      }
    }
  }
`;
interface Series {
  granularity: string;
  timeZone: string;
  total: Summary;
  buckets: { start: string; sentiment: Summary }[];
}
type SeriesData = { _entities: { id: string; sentiment: Series }[] };

describe('Account.sentiment', () => {
  const cases = [
    { g: 'HOUR', size: HOUR, tz: undefined, offset: 0, label: 'UTC hours' },
    { g: 'DAY', size: DAY, tz: undefined, offset: 0, label: 'UTC days' },
    { g: 'DAY', size: DAY, tz: 'Asia/Kolkata', offset: 5.5 * HOUR, label: 'Kolkata days' },
    { g: 'HOUR', size: HOUR, tz: 'Asia/Kolkata', offset: 5.5 * HOUR, label: 'Kolkata hours' },
    { g: 'DAY', size: DAY, tz: 'asia/kathmandu', offset: 5.75 * HOUR, label: 'Kathmandu days' },
  ] as const;

  for (const { g, size, tz, offset, label } of cases) {
    test(`per bucket and in total, over a range cut mid-hour: ${label}`, async () => {
      const from = T0 + 37 * 60_000;
      const to = T0 + 2 * DAY + 11 * 60_000 + 7_000;
      const reply = await gql<SeriesData>(keyA, SERIES, {
        reps: ['a1', 'a2', 'nobody'].map((id) => ({ __typename: 'Account', id })),
        range: { from: iso(from), to: iso(to) },
        g,
        tz,
      });
      expect(reply.errors).toBeUndefined();
      const texts = latestTexts(orgA).filter((t) => t.at >= from && t.at < to);
      for (const [i, account] of ['a1', 'a2', 'nobody'].entries()) {
        const series = reply.data?._entities[i]?.sentiment;
        expect(series?.granularity).toBe(g);
        expect(series?.timeZone).toBe(tz === 'asia/kathmandu' ? 'Asia/Kathmandu' : (tz ?? 'UTC'));
        const mine = texts.filter((t) => t.accountId === account);
        expectSummary(series?.total, recount(mine), `${account} total`);
        const starts = [...new Set(mine.map((t) => bucketStart(t.at, size, offset)))].sort(
          (a, b) => a - b,
        );
        expect(series?.buckets.map((b) => Date.parse(b.start))).toEqual(starts);
        for (const bucket of series?.buckets ?? []) {
          const start = Date.parse(bucket.start);
          const inBucket = mine.filter((t) => bucketStart(t.at, size, offset) === start);
          expectSummary(bucket.sentiment, recount(inBucket), `${account} ${bucket.start}`);
        }
      }
      expect(reply.data?._entities[2]?.sentiment.total.count).toBe(0);
      expect(reply.data?._entities[2]?.sentiment.total.meanScore).toBeNull();
    });
  }

  test("another organisation's ids return nothing of this one's", async () => {
    const reply = await gql<SeriesData>(keyB, SERIES, {
      reps: [{ __typename: 'Account', id: 'a2' }],
      range: { from: iso(T0), to: iso(T0 + 3 * DAY) },
      g: 'DAY',
    });
    expect(reply.data?._entities[0]?.sentiment).toMatchObject({
      total: { count: 0, meanScore: null },
      buckets: [],
    });
    const a1 = await gql<SeriesData>(keyB, SERIES, {
      reps: [{ __typename: 'Account', id: 'a1' }],
      range: { from: iso(T0), to: iso(T0 + 3 * DAY) },
      g: 'DAY',
    });
    expect(a1.data?._entities[0]?.sentiment.total.count).toBe(2);
  });

  test('refuses an unknown time zone, a reversed range and too many buckets', async () => {
    const reps = [{ __typename: 'Account', id: 'a1' }];
    for (const variables of [
      { range: { from: iso(T0), to: iso(T0 + DAY) }, g: 'DAY', tz: 'Mars/Olympus' },
      { range: { from: iso(T0 + DAY), to: iso(T0) }, g: 'DAY' },
      { range: { from: iso(T0), to: iso(T0 + 5001 * HOUR) }, g: 'HOUR' },
    ]) {
      const reply = await gql(keyA, SERIES, { reps, ...variables });
      expect(
        reply.errors?.map((e) => e.extensions?.code),
        JSON.stringify(variables),
      ).toEqual(['BAD_USER_INPUT']);
    }
  });
});

const COMMENTS = /* GraphQL */ `
  query ($id: ID!, $sentiment: SentimentFilter) {
    post(id: $id) {
      comments(first: 100, sentiment: $sentiment) {
        id
        sentiment
        sentimentClass
        scorer {
          name
          version
        }
      }
    }
  }
`;
type CommentsData = {
  post: {
    comments: {
      id: string;
      sentiment: number;
      sentimentClass: string;
      scorer: { name: string; version: string };
    }[];
  } | null;
};

describe('filters', () => {
  const classOf = (score: number) =>
    score >= 0.05 ? 'POSITIVE' : score <= -0.05 ? 'NEGATIVE' : 'NEUTRAL';

  test('Post.comments by class and by score range, with each comment’s class and scorer', async () => {
    const texts = latestTexts(orgA).filter((t) => t.postId === 'a1-p1');
    const idsOf = (list: readonly { id: string }[]) => list.map((t) => t.id).sort();
    for (const [filter, keep] of [
      [{ classes: ['NEGATIVE'] }, (s: number) => s <= -0.05],
      [{ classes: ['POSITIVE', 'NEUTRAL'] }, (s: number) => s > -0.05],
      [{ minScore: -0.3, maxScore: 0.4 }, (s: number) => s >= -0.3 && s <= 0.4],
      [{ classes: ['POSITIVE'], minScore: 0.6 }, (s: number) => s >= 0.6],
      [{ classes: [] }, () => false],
    ] as const) {
      const reply = await gql<CommentsData>(keyA, COMMENTS, { id: 'a1-p1', sentiment: filter });
      expect(reply.errors).toBeUndefined();
      const comments = reply.data?.post?.comments ?? [];
      expect(idsOf(comments), JSON.stringify(filter)).toEqual(
        idsOf(texts.filter((t) => keep(t.score))),
      );
      for (const c of comments) expect(c.sentimentClass).toBe(classOf(c.sentiment));
    }
    const all = await gql<CommentsData>(keyA, COMMENTS, { id: 'a1-p1' });
    expect(all.data?.post?.comments[0]?.scorer).toEqual({
      name: 'vader',
      version: createVaderScorer().version,
    });
  });

  test("another organisation's ids return nothing through the filters or search", async () => {
    const comments = await gql<CommentsData>(keyB, COMMENTS, {
      id: 'a1-p1',
      sentiment: { classes: ['NEGATIVE', 'NEUTRAL', 'POSITIVE'] },
    });
    expect(comments.data).toEqual({ post: null });
    const own = await gql<CommentsData>(keyB, COMMENTS, {
      id: 'a1-p0',
      sentiment: { classes: ['POSITIVE'] },
    });
    expect(own.data?.post?.comments.map((c) => c.id).sort()).toEqual(['b1', 'b2']);
    const found = await gql<{ search: { total: number; hits: { id: string }[] } }>(
      keyB,
      `{ search(text: "great", sentiment: { minScore: -1 }, orderBy: RELEVANCE, accountIds: ["a1", "a2"]) { total hits { id } } }`,
    );
    // B's post a1-p0 has "great" in its caption; none of A's hundreds of texts show.
    expect(found.data?.search).toEqual({ total: 1, hits: [{ id: 'a1-p0' }] });
  });

  test('refuses score bounds outside -1..1 or reversed', async () => {
    for (const sentiment of [{ minScore: -2 }, { maxScore: 1.5 }, { minScore: 0.5, maxScore: 0 }]) {
      const reply = await gql(keyA, COMMENTS, { id: 'a1-p1', sentiment });
      expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
  });

  test('search by class, newest first or by relevance', async () => {
    const query = `query ($text: String!, $sentiment: SentimentFilter, $order: SearchOrder!) {
      search(text: $text, sentiment: $sentiment, orderBy: $order, first: 100) {
        total hits { id text sentiment sentimentClass at scorer { name } }
      } }`;
    type Data = {
      search: {
        total: number;
        hits: { id: string; text: string; sentimentClass: string; at: string }[];
      };
    };
    const negative = await gql<Data>(keyA, query, {
      text: 'the',
      sentiment: { classes: ['NEGATIVE'] },
      order: 'NEWEST',
    });
    expect(negative.errors).toBeUndefined();
    const expected = latestTexts(orgA).filter((t) => {
      const e = sent.filter((s) => s.orgId === orgA && s.event.commentId === t.id).at(-1)!;
      return t.score <= -0.05 && /\bthe\b/i.test(e.event.text);
    });
    expect(negative.data?.search.total).toBe(expected.length);
    expect(negative.data?.search.hits.every((h) => h.sentimentClass === 'NEGATIVE')).toBe(true);
    const ats = negative.data?.search.hits.map((h) => Date.parse(h.at)) ?? [];
    expect(ats).toEqual([...ats].sort((a, b) => b - a));

    // "great" twice in a short text ranks above "great" once.
    const ranked = await gql<Data>(keyA, query, { text: 'great', order: 'RELEVANCE' });
    const texts = ranked.data?.search.hits.map((h) => h.text) ?? [];
    expect(texts.length).toBeGreaterThan(2);
    const twice = texts.filter((t) => t === 'great colours and a great fit').length;
    expect(texts.slice(0, twice).every((t) => t === 'great colours and a great fit')).toBe(true);
    expect(texts.slice(twice)).not.toContain('great colours and a great fit');
  });
});
