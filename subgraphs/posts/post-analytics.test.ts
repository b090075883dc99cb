// Posts analytics against chDB: every number is checked against a recount, in this file, of the
// raw events sent (lifetime metrics, engagements per platform, rates with and without a
// denominator, hashtags, trends, the best-time heatmap in two zones, rankings and their pages).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toEventRow } from '../../ingest/pipeline/event-rows.ts';
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
import { ENGAGEMENTS } from '../../schema/engagement.ts';
import { ENGAGEMENT_METRICS, type EventInput, type Platform } from '../../schema/event-envelope.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';
import { createPostsSubgraph } from './server.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
// 2026-02-22 .. 2026-03-22: Los Angeles moves to PDT on 8 March.
const START = Date.UTC(2026, 1, 22, 5);
const SPAN = 28 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();

type Metric = (typeof ENGAGEMENT_METRICS)[number];
const ACCOUNTS: { id: string; platform: Platform }[] = [
  { id: 'fb', platform: 'facebook' },
  { id: 'ig', platform: 'instagram' },
  { id: 'x', platform: 'x' },
  // No profile snapshot before its posts: FOLLOWERS rates are null.
  { id: 'tt', platform: 'tiktok' },
];
const TAGS = [
  '#Café',
  '#café!',
  '#CAFE\u0301',
  '#日本',
  '#ÜberCool',
  '#übercool.',
  '#launch',
  '#Sale',
];
const NOT_TAGS = ['x#glued', '#2024', 'email@host#frag'];

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

interface Sent {
  org: string;
  events: EventInput[];
}

let olap: Olap;
let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let orgA: string;
let orgB: string;
let keyA: string;
let keyB: string;
const sent: Sent[] = [];

function buildEvents(prefix: string, seed: number): EventInput[] {
  const rnd = random(seed);
  const events: EventInput[] = [];
  let n = 0;
  const id = () => `${prefix}-ev-${n++}`;
  for (const a of ACCOUNTS) {
    if (a.id === 'tt') continue;
    let followers = 1000 + Math.floor(rnd() * 5000);
    for (let t = START - DAY; t < START + SPAN + DAY; t += 11 * HOUR + 17 * 60_000) {
      followers += Math.floor(rnd() * 80) - 20;
      events.push({
        id: id(),
        type: 'profile',
        platform: a.platform,
        accountId: `${prefix}-${a.id}`,
        handle: a.id,
        displayName: a.id,
        followers,
        following: 10,
        postCount: 1,
        occurredAt: iso(t),
      });
    }
  }
  for (let i = 0; i < 140; i++) {
    const a = ACCOUNTS[i % ACCOUNTS.length]!;
    const accountId = `${prefix}-${a.id}`;
    const postId = `${prefix}-p${i}`;
    // Posts cluster on Tuesdays around 18:00 Los Angeles time, and else anywhere.
    const published =
      i % 3 === 0
        ? DateTime.fromMillis(START, { zone: 'America/Los_Angeles' })
            .plus({ weeks: i % 4 })
            .set({ weekday: 2, hour: 18, minute: Math.floor(rnd() * 59) })
            .toMillis()
        : START + Math.floor(rnd() * SPAN);
    const tags = TAGS.filter(() => rnd() < 0.3);
    const content = `Post ${i} ${tags.join(' ')} ${rnd() < 0.2 ? NOT_TAGS.join(' ') : ''}`;
    const mediaType = (['image', 'video', 'text'] as const)[i % 3]!;
    const post = {
      id: id(),
      type: 'post',
      action: 'published',
      platform: a.platform,
      accountId,
      postId,
      content,
      mediaType,
      publishedAt: iso(published),
      occurredAt: iso(published),
    } satisfies EventInput;
    events.push(post);
    // Some posts are edited later: the latest text's hashtags are the post's.
    if (i % 7 === 0) {
      events.push({
        ...post,
        id: id(),
        action: 'updated',
        content: `Post ${i} edited #launch`,
        occurredAt: iso(published + 2 * HOUR),
      });
    }
    for (const metric of ENGAGEMENT_METRICS) {
      // Reach, impressions and views are missing on some posts and zero on others.
      if (['reach', 'impressions', 'views'].includes(metric) && rnd() < 0.25) continue;
      const zero = rnd() < 0.1;
      if (rnd() < 0.5) {
        for (let k = 0; k < 3; k++) {
          events.push({
            id: id(),
            type: 'engagement',
            platform: a.platform,
            accountId,
            postId,
            metric,
            mode: 'delta',
            value: zero ? 0 : Math.floor(rnd() * 50),
            occurredAt: iso(published + (k + 1) * HOUR),
          });
        }
      } else {
        // Lifetime totals, sent out of order: the latest by event time wins.
        const value = zero ? 0 : Math.floor(rnd() * 5000);
        for (const [dt, v] of [
          [5 * HOUR, value],
          [HOUR, Math.floor(value / 3)],
          [3 * HOUR, Math.floor(value / 2)],
        ] as const) {
          events.push({
            id: id(),
            type: 'engagement',
            platform: a.platform,
            accountId,
            postId,
            metric,
            mode: 'total',
            value: v,
            occurredAt: iso(published + dt),
          });
        }
      }
    }
  }
  return events;
}

// ---- The recount: from the events sent, with none of the product's code. ----

interface Recount {
  id: string;
  accountId: string;
  platform: Platform;
  mediaType: string;
  publishedAt: number;
  content: string;
  lifetime: Record<Metric | 'engagements', number>;
  followers: number | null;
  hashtags: string[];
}

function extractHashtags(text: string): string[] {
  const tags = new Set<string>();
  for (const m of ` ${text}`.matchAll(/[^\p{L}\p{M}\p{N}_&#]#([\p{L}\p{M}\p{N}_]+)/gu)) {
    const tag = m[1]!.normalize('NFC').toLowerCase();
    if (/\p{L}/u.test(tag)) tags.add(tag);
  }
  return [...tags].sort();
}

function recount(org: string): Recount[] {
  const events = sent.filter((s) => s.org === org).flatMap((s) => s.events);
  const latest = new Map<string, Extract<EventInput, { type: 'post' }>>();
  for (const e of events) {
    if (e.type !== 'post') continue;
    const prev = latest.get(e.postId);
    if (!prev || Date.parse(prev.occurredAt) < Date.parse(e.occurredAt)) latest.set(e.postId, e);
  }
  return [...latest.values()].map((p) => {
    const lifetime = { engagements: 0 } as Record<Metric | 'engagements', number>;
    for (const metric of ENGAGEMENT_METRICS) {
      const mine = events.filter(
        (e) => e.type === 'engagement' && e.postId === p.postId && e.metric === metric,
      ) as Extract<EventInput, { type: 'engagement' }>[];
      const deltas = mine.filter((e) => e.mode === 'delta').reduce((s, e) => s + e.value, 0);
      const totals = mine
        .filter((e) => e.mode === 'total')
        .sort((x, y) => Date.parse(y.occurredAt) - Date.parse(x.occurredAt));
      lifetime[metric] = deltas + (totals[0]?.value ?? 0);
    }
    for (const m of ENGAGEMENTS[p.platform]) lifetime.engagements += lifetime[m as Metric];
    const published = Date.parse(p.publishedAt);
    const snapshots = events
      .filter(
        (e): e is Extract<EventInput, { type: 'profile' }> =>
          e.type === 'profile' &&
          e.accountId === p.accountId &&
          Date.parse(e.occurredAt) <= published,
      )
      .sort((x, y) => Date.parse(y.occurredAt) - Date.parse(x.occurredAt));
    return {
      id: p.postId,
      accountId: p.accountId,
      platform: p.platform,
      mediaType: p.mediaType ?? '',
      publishedAt: published,
      content: p.content,
      lifetime,
      followers: snapshots[0]?.followers ?? null,
      hashtags: extractHashtags(p.content),
    };
  });
}

type Basis = 'followers' | 'reach' | 'impressions' | 'views';
function rate(p: Recount, basis: Basis): number | null {
  const d = basis === 'followers' ? (p.followers ?? 0) : p.lifetime[basis];
  return d > 0 ? p.lifetime.engagements / d : null;
}

const inRange = (p: Recount, from: number, to: number) =>
  p.publishedAt >= from && p.publishedAt < to;

function gql<T = Record<string, unknown>>(
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Reply<T>> {
  return postAsGateway<T>(authenticate, served.url, key, query, variables);
}

async function ok<T>(key: string, query: string, variables: Record<string, unknown> = {}) {
  const reply = await gql<T>(key, query, variables);
  expect(reply.errors).toBeUndefined();
  return reply.data!;
}

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-post-analytics-')) });
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  orgA = await createOrganisation(meta, 'A', 'America/Los_Angeles');
  orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');
  // Org A in two inserts (two parts, unmerged): readers must fold the rows themselves.
  await applyOlapSchema(olap);
  const a = buildEvents('a', 7);
  const b = buildEvents('b', 11);
  const half = Math.floor(a.length / 2);
  for (const [org, events] of [
    [orgA, a.slice(0, half)],
    [orgA, a.slice(half)],
    [orgB, b],
  ] as const) {
    sent.push({ org, events });
    await olap.insert(
      'events',
      events.map((event) => toEventRow({ orgId: org, receivedAt: START, event })),
    );
  }
  const subgraph = createPostsSubgraph({ olap, tokens: testTokens });
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await served?.close();
  await meta?.close();
  await olap?.close();
});

const POST_FIELDS = /* GraphQL */ `
  id
  platform
  hashtags
  followersAtPosting
  lifetime { ${[...ENGAGEMENT_METRICS, 'engagements'].join(' ')} }
  byFollowers: engagementRate(basis: FOLLOWERS)
  byReach: engagementRate(basis: REACH)
  byImpressions: engagementRate(basis: IMPRESSIONS)
  byViews: engagementRate(basis: VIEWS)
`;

interface PostReply {
  id: string;
  platform: string;
  hashtags: string[];
  followersAtPosting: number | null;
  lifetime: Record<string, number>;
  byFollowers: number | null;
  byReach: number | null;
  byImpressions: number | null;
  byViews: number | null;
}

function expectPost(got: PostReply, want: Recount) {
  expect(got.platform).toBe(want.platform.toUpperCase());
  expect(got.hashtags).toEqual(want.hashtags);
  expect(got.followersAtPosting).toBe(want.followers);
  expect(got.lifetime).toEqual(want.lifetime);
  for (const [field, basis] of [
    ['byFollowers', 'followers'],
    ['byReach', 'reach'],
    ['byImpressions', 'impressions'],
    ['byViews', 'views'],
  ] as const) {
    const r = rate(want, basis);
    if (r === null) expect(got[field], `${want.id} ${basis}`).toBeNull();
    else expect(got[field], `${want.id} ${basis}`).toBeCloseTo(r, 12);
  }
}

describe('Post lifetime metrics and engagement rate', () => {
  test('every post equals the recount, with rates null where there is nothing to divide by', async () => {
    const want = recount(orgA);
    const data = await ok<{ _entities: (PostReply | null)[] }>(
      keyA,
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Post { ${POST_FIELDS} } } }`,
      { reps: want.map((p) => ({ __typename: 'Post', id: p.id })) },
    );
    want.forEach((p, i) => expectPost(data._entities[i]!, p));
    // The data exercises both sides of each rule.
    expect(want.some((p) => rate(p, 'reach') === null && p.lifetime.engagements > 0)).toBe(true);
    expect(want.some((p) => p.followers === null)).toBe(true);
    expect(want.some((p) => rate(p, 'views') !== null)).toBe(true);
  });

  test('hashtags are Unicode-aware, NFC, case-folded, without trailing punctuation', async () => {
    expect(extractHashtags('#Café! #CAFE\u0301 #日本, #ÜberCool. x#no #2024 (#ok)')).toEqual(
      ['café', 'ok', 'übercool', '日本'].sort(),
    );
    const tagged = recount(orgA).filter((p) => p.content.includes('#CAFE\u0301'));
    expect(tagged.length).toBeGreaterThan(0);
    const data = await ok<{ post: { hashtags: string[] } }>(
      keyA,
      `query ($id: ID!) { post(id: $id) { hashtags } }`,
      { id: tagged[0]!.id },
    );
    expect(data.post.hashtags).toContain('café');
    expect(data.post.hashtags).not.toContain('2024');
    expect(data.post.hashtags).not.toContain('glued');
  });

  test("another organisation's post ids give nothing", async () => {
    const data = await ok<{ _entities: (PostReply | null)[] }>(
      keyB,
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Post { id } } }`,
      { reps: [{ __typename: 'Post', id: 'a-p1' }] },
    );
    expect(data._entities).toEqual([null]);
  });
});

const TOP = /* GraphQL */ `
  query ($range: TimeRange!, $by: PostRanking!, $filter: PostFilter, $first: Int!, $after: String) {
    topPosts(range: $range, by: $by, filter: $filter, first: $first, after: $after) {
      nodes {
        rank
        value
        post {
          id
        }
      }
      endCursor
    }
  }
`;

interface TopReply {
  topPosts: {
    nodes: { rank: number; value: number; post: { id: string } }[];
    endCursor: string | null;
  };
}

async function allPages(key: string, variables: Record<string, unknown>) {
  const nodes: TopReply['topPosts']['nodes'] = [];
  let after: string | null = null;
  do {
    const data: TopReply = await ok<TopReply>(key, TOP, { ...variables, first: 7, after });
    nodes.push(...data.topPosts.nodes);
    after = data.topPosts.endCursor;
  } while (after !== null);
  return nodes;
}

describe('top posts', () => {
  const from = START + 3 * DAY + 7 * 60_000;
  const to = START + 20 * DAY + 13 * 60_000;
  const range = { from: iso(from), to: iso(to) };

  const cases: {
    name: string;
    by: Record<string, string>;
    filter?: Record<string, unknown>;
    value: (p: Recount) => number | null;
    keep?: (p: Recount) => boolean;
  }[] = [
    { name: 'engagements', by: { metric: 'ENGAGEMENTS' }, value: (p) => p.lifetime.engagements },
    { name: 'views', by: { metric: 'VIEWS' }, value: (p) => p.lifetime.views },
    { name: 'rate by reach', by: { engagementRate: 'REACH' }, value: (p) => rate(p, 'reach') },
    {
      name: 'rate by followers, Instagram and X videos and images',
      by: { engagementRate: 'FOLLOWERS' },
      filter: { platforms: ['INSTAGRAM', 'X'], mediaTypes: ['VIDEO', 'IMAGE'] },
      value: (p) => rate(p, 'followers'),
      keep: (p) =>
        ['instagram', 'x'].includes(p.platform) && ['video', 'image'].includes(p.mediaType),
    },
    {
      name: 'likes with #ÜBERCOOL',
      by: { metric: 'LIKES' },
      filter: { hashtag: '#ÜBERCOOL' },
      value: (p) => p.lifetime.likes,
      keep: (p) => p.hashtags.includes('übercool'),
    },
  ];

  test.each(cases)('by $name: every page in order, as the recount ranks them', async (c) => {
    const want = recount(orgA)
      .filter((p) => inRange(p, from, to) && (c.keep?.(p) ?? true) && c.value(p) !== null)
      .sort((x, y) => c.value(y)! - c.value(x)! || (x.id < y.id ? -1 : 1));
    expect(want.length).toBeGreaterThan(7);
    const got = await allPages(keyA, { range, by: c.by, filter: c.filter ?? null });
    expect(got.map((n) => n.post.id)).toEqual(want.map((p) => p.id));
    expect(got.map((n) => n.rank)).toEqual(want.map((_, i) => i + 1));
    got.forEach((n, i) => expect(n.value).toBeCloseTo(c.value(want[i]!)!, 12));
  });

  test('another organisation sees only its own posts, and a foreign cursor is refused', async () => {
    const got = await allPages(keyB, { range, by: { metric: 'ENGAGEMENTS' } });
    expect(got.every((n) => n.post.id.startsWith('b-'))).toBe(true);
    const reply = await gql(keyA, TOP, { range, by: { metric: 'LIKES' }, first: 5, after: 'junk' });
    expect(reply.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('hashtag trends', () => {
  const from = START + 14 * DAY + 5 * 60_000;
  const to = START + 28 * DAY;
  const QUERY = /* GraphQL */ `
    query ($range: TimeRange!, $minPosts: Int!, $basis: EngagementRateBasis!) {
      hashtagTrends(range: $range, minPosts: $minPosts, basis: $basis, first: 100) {
        comparedFrom
        trends {
          hashtag
          current {
            posts
            engagements
            averageEngagementRate
          }
          previous {
            posts
            engagements
            averageEngagementRate
          }
          postsChange
          postsChangePercent
          engagementsChange
          engagementsChangePercent
          averageEngagementRateChange
        }
      }
    }
  `;

  function period(posts: Recount[], basis: Basis) {
    const rates = posts.map((p) => rate(p, basis)).filter((r): r is number => r !== null);
    return {
      posts: posts.length,
      engagements: posts.reduce((s, p) => s + p.lifetime.engagements, 0),
      averageEngagementRate:
        rates.length === 0 ? null : rates.reduce((s, r) => s + r, 0) / rates.length,
    };
  }

  test.each([
    [2, 'REACH'],
    [6, 'FOLLOWERS'],
  ] as const)(
    'min %i posts, by %s: the recount of both periods and the change',
    async (minPosts, basis) => {
      const b = basis.toLowerCase() as Basis;
      const all = recount(orgA);
      const tags = [...new Set(all.flatMap((p) => p.hashtags))];
      const want = tags
        .map((hashtag) => {
          const current = period(
            all.filter((p) => inRange(p, from, to) && p.hashtags.includes(hashtag)),
            b,
          );
          const previous = period(
            all.filter((p) => inRange(p, 2 * from - to, from) && p.hashtags.includes(hashtag)),
            b,
          );
          return { hashtag, current, previous };
        })
        .filter((t) => t.current.posts >= minPosts)
        .sort(
          (x, y) =>
            y.current.posts - x.current.posts ||
            y.current.engagements - x.current.engagements ||
            (x.hashtag < y.hashtag ? -1 : 1),
        );
      expect(want.length).toBeGreaterThan(1);
      const data = await ok<{
        hashtagTrends: { comparedFrom: string; trends: Record<string, unknown>[] };
      }>(keyA, QUERY, { range: { from: iso(from), to: iso(to) }, minPosts, basis });
      expect(data.hashtagTrends.comparedFrom).toBe(iso(2 * from - to));
      const got = data.hashtagTrends.trends;
      expect(got.map((t) => t['hashtag'])).toEqual(want.map((t) => t.hashtag));
      got.forEach((g, i) => {
        const w = want[i]!;
        for (const side of ['current', 'previous'] as const) {
          const p = g[side] as Record<string, number | null>;
          expect(p['posts']).toBe(w[side].posts);
          expect(p['engagements']).toBe(w[side].engagements);
          if (w[side].averageEngagementRate === null) expect(p['averageEngagementRate']).toBeNull();
          else expect(p['averageEngagementRate']).toBeCloseTo(w[side].averageEngagementRate, 12);
        }
        expect(g['postsChange']).toBe(w.current.posts - w.previous.posts);
        expect(g['engagementsChange']).toBe(w.current.engagements - w.previous.engagements);
        const pct =
          w.previous.posts === 0
            ? null
            : ((w.current.posts - w.previous.posts) / w.previous.posts) * 100;
        if (pct === null) expect(g['postsChangePercent']).toBeNull();
        else expect(g['postsChangePercent']).toBeCloseTo(pct, 9);
      });
    },
  );

  test('another organisation gets only its own hashtags counts', async () => {
    const data = await ok<{
      hashtagTrends: { trends: { hashtag: string; current: { posts: number } }[] };
    }>(keyB, QUERY, { range: { from: iso(from), to: iso(to) }, minPosts: 1, basis: 'REACH' });
    const b = recount(orgB);
    for (const t of data.hashtagTrends.trends) {
      expect(t.current.posts).toBe(
        b.filter((p) => inRange(p, from, to) && p.hashtags.includes(t.hashtag)).length,
      );
    }
  });
});

describe('best time to post', () => {
  const QUERY = /* GraphQL */ `
    query ($range: TimeRange!, $tz: String, $minPosts: Int!) {
      bestTimeToPost(range: $range, basis: REACH, timeZone: $tz, minPosts: $minPosts, top: 3) {
        timeZone
        slots {
          dayOfWeek
          hour
          posts
          ratedPosts
          tooFewPosts
          averageEngagementRate
        }
        topSlots {
          dayOfWeek
          hour
          averageEngagementRate
        }
      }
    }
  `;
  interface Slot {
    dayOfWeek: number;
    hour: number;
    posts: number;
    ratedPosts: number;
    tooFewPosts: boolean;
    averageEngagementRate: number | null;
  }

  test.each([
    { tz: undefined, zone: 'America/Los_Angeles', minPosts: 3 },
    { tz: 'Asia/Kolkata', zone: 'Asia/Kolkata', minPosts: 2 },
  ])(
    "in $zone (the organisation's zone unless given), across the DST change: every slot is the recount",
    async ({ tz, zone, minPosts }) => {
      const from = START;
      const to = START + SPAN;
      const posts = recount(orgA).filter((p) => inRange(p, from, to));
      const data = await ok<{
        bestTimeToPost: { timeZone: string; slots: Slot[]; topSlots: Slot[] };
      }>(keyA, QUERY, { range: { from: iso(from), to: iso(to) }, tz: tz ?? null, minPosts });
      expect(data.bestTimeToPost.timeZone).toBe(zone);
      const slots = data.bestTimeToPost.slots;
      expect(slots).toHaveLength(168);
      for (const s of slots) {
        const mine = posts.filter((p) => {
          const local = DateTime.fromMillis(p.publishedAt, { zone });
          return local.weekday === s.dayOfWeek && local.hour === s.hour;
        });
        const rates = mine.map((p) => rate(p, 'reach')).filter((r): r is number => r !== null);
        expect(s.posts).toBe(mine.length);
        expect(s.ratedPosts).toBe(rates.length);
        expect(s.tooFewPosts).toBe(rates.length < minPosts || rates.length === 0);
        if (s.tooFewPosts) expect(s.averageEngagementRate).toBeNull();
        else
          expect(s.averageEngagementRate).toBeCloseTo(
            rates.reduce((a, r) => a + r, 0) / rates.length,
            12,
          );
      }
      expect(slots.reduce((n, s) => n + s.posts, 0)).toBe(posts.length);
      const best = slots
        .filter((s) => s.averageEngagementRate !== null)
        .sort((a, b) => b.averageEngagementRate! - a.averageEngagementRate!)
        .slice(0, 3);
      expect(data.bestTimeToPost.topSlots.map((s) => s.averageEngagementRate)).toEqual(
        best.map((s) => s.averageEngagementRate),
      );
      if (zone === 'America/Los_Angeles') {
        // The Tuesday 18:00 cluster (24 Feb and 3 March in PST, 10 March in PDT) is one local slot.
        expect(slots.find((s) => s.dayOfWeek === 2 && s.hour === 18)!.posts).toBeGreaterThanOrEqual(
          30,
        );
      }
    },
  );

  test('an unknown time zone is refused', async () => {
    const reply = await gql(keyA, QUERY, {
      range: { from: iso(START), to: iso(START + DAY) },
      tz: 'Mars/Olympus',
      minPosts: 3,
    });
    expect(reply.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('feed', () => {
  const QUERY = /* GraphQL */ `
    query ($ids: [ID!]!, $after: String) {
      feed(accountIds: $ids, first: 9, after: $after) {
        nodes {
          id
          publishedAt
        }
        endCursor
      }
    }
  `;

  test('the posts of a set of accounts, newest first, page after page', async () => {
    const ids = ['a-fb', 'a-x', 'b-ig'];
    const want = recount(orgA)
      .filter((p) => ids.includes(p.accountId))
      .sort((x, y) => y.publishedAt - x.publishedAt || (x.id < y.id ? 1 : -1));
    const got: string[] = [];
    let after: string | null = null;
    do {
      const data: { feed: { nodes: { id: string }[]; endCursor: string | null } } = await ok(
        keyA,
        QUERY,
        { ids, after },
      );
      got.push(...data.feed.nodes.map((n) => n.id));
      after = data.feed.endCursor;
    } while (after !== null);
    expect(got).toEqual(want.map((p) => p.id));
  });

  test("another organisation's account ids give nothing", async () => {
    const data = await ok<{ feed: { nodes: unknown[] } }>(keyB, QUERY, { ids: ['a-fb', 'a-ig'] });
    expect(data.feed.nodes).toEqual([]);
  });
});
