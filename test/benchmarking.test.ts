// Competitor benchmarks through the gateway on the embedded product: every figure of one query
// (head-to-head series, growth, posting frequency, engagement per post, share of voice,
// percentile ranks, landscape, top posts and breakouts) against a recount, in this file, of the
// raw events posted, over a range with unaligned ends, in Los Angeles (the organisation's zone)
// and Asia/Kolkata. Another organisation posts events for the same account ids and sees nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import type { EventInput, MetricName } from '../schema/event-envelope.ts';
import { postAccepted } from './support/post-events.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';
import { seeded } from './support/known-batch.ts';
import { recountBy } from './support/recount.ts';

const KEY = 'loupe_benchmarking_test_0123';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// Unaligned ends: 10:17:31.250 UTC three days ago, to a day and three hours later.
const FROM = Math.floor(Date.now() / DAY) * DAY - 3 * DAY + 10 * HOUR + 17 * 60_000 + 31_250;
const TO = FROM + DAY + 3 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** What engages per platform, as the product defines it (written out again, on purpose). */
const ENGAGING: Record<string, string[]> = {
  facebook: ['likes', 'comments', 'shares'],
  instagram: ['likes', 'comments', 'saves', 'shares'],
  x: ['likes', 'comments', 'shares', 'quotes'],
};

const MEMBERS = [
  { id: 'bm-ig-1', platform: 'instagram', posts: 7 },
  { id: 'bm-ig-2', platform: 'instagram', posts: 7 },
  { id: 'bm-x', platform: 'x', posts: 4 },
  { id: 'bm-fb', platform: 'facebook', posts: 3 },
] as const;
/** The outlier: far more likes than any other Instagram post of the set. */
const PLANTED = 'bm-ig-2-post-3';

function buildEvents(seed: number, prefix: string): EventInput[] {
  const random = seeded(seed);
  const events: EventInput[] = [];
  let n = 0;
  const id = () => `${prefix}-${n++}`;
  // Events from half a day before the range to half a day after it.
  const start = FROM - 12 * HOUR;
  const end = TO + 12 * HOUR;
  const at = () => start + Math.floor(random() * (end - start));
  for (const m of MEMBERS) {
    const base = { platform: m.platform, accountId: m.id };
    const posts: { id: string; at: number }[] = [];
    for (let p = 0; p < m.posts; p++) {
      // Most posts inside the range, one before it.
      const publishedAt = p === 0 ? FROM - 2 * HOUR : FROM + Math.floor(random() * (TO - FROM));
      const postId = `${m.id}-post-${p}`;
      posts.push({ id: postId, at: publishedAt });
      events.push({
        ...base,
        id: id(),
        type: 'post',
        action: 'published',
        postId,
        content: `post ${p} of ${m.id}`,
        publishedAt: iso(publishedAt),
        occurredAt: iso(publishedAt),
      });
    }
    for (let i = 0; i < 160; i++) {
      const metric = (['likes', 'comments', 'shares', 'saves', 'quotes', 'views'] as const)[
        Math.floor(random() * 6)
      ]!;
      const post = posts[Math.floor(random() * posts.length)]!;
      events.push({
        ...base,
        id: id(),
        type: 'engagement',
        metric,
        mode: 'delta',
        value: 1 + Math.floor(random() * 4),
        occurredAt: iso(Math.max(post.at, at())),
        ...(random() < 0.9 ? { postId: post.id } : {}),
      });
    }
    // Lifetime totals on every post: saves (an engagement on Instagram) and impressions.
    for (const post of posts) {
      let saves = 0;
      let impressions = 50;
      for (let t = post.at + 1_000; t < end; t += 5 * HOUR) {
        saves += Math.floor(random() * 3);
        impressions += Math.floor(random() * 40);
        for (const [metric, value] of [
          ['saves', saves],
          ['impressions', impressions],
        ] as const) {
          events.push({
            ...base,
            id: id(),
            type: 'engagement',
            metric,
            mode: 'total',
            value,
            postId: post.id,
            occurredAt: iso(t),
          });
        }
      }
    }
    let followers = 500 + Math.floor(random() * 4000);
    for (let t = FROM - 30 * HOUR; t < end; t += 4 * HOUR + 13 * 60_000) {
      followers += Math.floor(random() * 60) - 10;
      events.push({
        ...base,
        id: id(),
        type: 'profile',
        handle: m.id,
        displayName: m.id,
        followers,
        following: 3,
        postCount: m.posts,
        occurredAt: iso(t),
      });
    }
    const mentions = 5 + Math.floor(random() * 25);
    for (let i = 0; i < mentions; i++) {
      for (const kind of ['mention', 'comment'] as const) {
        events.push({
          ...base,
          id: id(),
          type: 'comment',
          kind,
          commentId: id(),
          text: `${kind} of ${m.id}`,
          occurredAt: iso(at()),
          ...(kind === 'comment' ? { postId: posts[0]!.id } : {}),
        });
      }
    }
    if (m.id === 'bm-ig-2') {
      events.push({
        ...base,
        id: id(),
        type: 'engagement',
        metric: 'likes',
        mode: 'delta',
        value: 900,
        postId: PLANTED,
        occurredAt: iso(TO - HOUR),
      });
    }
  }
  return events;
}

const EVENTS = buildEvents(41, 'bm-a');
const eventsOf = (account: string) => EVENTS.filter((e) => e.accountId === account);
const inRange = (ms: number) => ms >= FROM && ms < TO;

// ---- The recount: plain TypeScript over the events as sent. ----

function localKey(ms: number, zone: string, hourly: boolean): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    ...(hourly ? { hour: '2-digit', hourCycle: 'h23' } : {}),
  }).formatToParts(ms);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}${hourly ? ` ${part('hour')}` : ''}`;
}

interface PostRecount {
  id: string;
  account: string;
  platform: string;
  publishedAt: number;
  likes: number;
  engagements: number;
  followers: number | null;
}

function recountPosts(): PostRecount[] {
  const out: PostRecount[] = [];
  for (const e of EVENTS) {
    if (e.type !== 'post' || !inRange(Date.parse(e.publishedAt))) continue;
    const on = EVENTS.filter(
      (x): x is Extract<EventInput, { type: 'engagement' }> =>
        x.type === 'engagement' && x.postId === e.postId,
    );
    const lifetime = (metric: string) => {
      const deltas = on.filter((x) => x.metric === metric && x.mode === 'delta');
      const totals = on
        .filter((x) => x.metric === metric && x.mode === 'total')
        .sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
      return deltas.reduce((s, x) => s + x.value, 0) + (totals.at(-1)?.value ?? 0);
    };
    const publishedAt = Date.parse(e.publishedAt);
    const snapshots = EVENTS.filter(
      (x) =>
        x.type === 'profile' &&
        x.accountId === e.accountId &&
        Date.parse(x.occurredAt) <= publishedAt,
    ).sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
    const last = snapshots.at(-1);
    out.push({
      id: e.postId,
      account: e.accountId,
      platform: e.platform,
      publishedAt,
      likes: lifetime('likes'),
      engagements: (ENGAGING[e.platform] ?? []).reduce((s, m) => s + lifetime(m), 0),
      followers: last?.type === 'profile' ? last.followers : null,
    });
  }
  return out;
}

function percentile(values: (number | null)[], i: number): number | null {
  const v = values[i];
  const others = values.filter((x, j): x is number => j !== i && x !== null && x !== undefined);
  if (v === null || v === undefined || others.length === 0) return null;
  const below = others.filter((x) => x < v).length;
  const ties = others.filter((x) => x === v).length;
  return (100 * (below + ties / 2)) / others.length;
}

function averageAndMedian(values: (number | null)[]) {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return { average: null, median: null };
  const average = known.reduce((a, b) => a + b, 0) / known.length;
  const median =
    known.length % 2 === 1
      ? known[(known.length - 1) / 2]!
      : (known[known.length / 2 - 1]! + known[known.length / 2]!) / 2;
  return { average, median };
}

function recountMember(account: string, zone: string, hourly: boolean) {
  const events = eventsOf(account);
  const key = (ms: number) => localKey(ms, zone, hourly);
  const counted = recountBy(events, key, { from: FROM, to: TO });
  const series = (metric: MetricName) => counted.get(metric) ?? new Map<string, number>();
  const total = (metric: MetricName) => [...series(metric).values()].reduce((a, b) => a + b, 0);
  const profiles = events
    .filter((e): e is Extract<EventInput, { type: 'profile' }> => e.type === 'profile')
    .map((e) => ({ at: Date.parse(e.occurredAt), followers: e.followers }))
    .sort((a, b) => a.at - b.at);
  const start = profiles.filter((p) => p.at < FROM).at(-1)?.followers ?? 0;
  const change = total('followers');
  const posts = recountPosts().filter((p) => p.account === account);
  const mentions = events.filter(
    (e) => e.type === 'comment' && e.kind === 'mention' && inRange(Date.parse(e.occurredAt)),
  );
  const mentionsBy = new Map<string, number>();
  for (const e of mentions) {
    const k = key(Date.parse(e.occurredAt));
    mentionsBy.set(k, (mentionsBy.get(k) ?? 0) + 1);
  }
  /** Followers at the end of bucket `k`: the last reading before `to` and in or before it. */
  const levelAt = (k: string) =>
    profiles.filter((p) => p.at < TO && (p.at < FROM || key(p.at) <= k)).at(-1)?.followers ?? 0;
  return {
    series,
    total,
    followers: {
      start,
      end: start + change,
      change,
      changePercent: start > 0 ? (100 * change) / start : null,
    },
    posts: posts.length,
    postsPerWeek: posts.length / ((TO - FROM) / WEEK),
    averageEngagementPerPost:
      posts.length > 0 ? posts.reduce((s, p) => s + p.engagements, 0) / posts.length : null,
    mentions: mentions.length,
    mentionsBy,
    levelAt,
  };
}

// ---- The query. ----

const BENCHMARK = /* GraphQL */ `
  query ($id: ID!, $from: DateTime!, $to: DateTime!, $g: Granularity!, $tz: String, $k: Float!) {
    competitorSet(id: $id) {
      benchmark(
        range: { from: $from, to: $to }
        granularity: $g
        timeZone: $tz
        metrics: [LIKES, COMMENTS, SAVES, ENGAGEMENTS, FOLLOWERS]
      ) {
        timeZone
        buckets {
          at
          localStart
        }
        members {
          account {
            id
          }
          platform
          series {
            metric
            total
            points {
              at
              value
            }
            values
            percentileRank
          }
          engagements
          engagementRate {
            total
            points {
              at
              value
            }
            values
          }
          followerGrowth {
            start
            end
            change
            changePercent
          }
          posts
          postsPerWeek
          averageEngagementPerPost
          ranks {
            engagements
            engagementRate
            followerGrowthPercent
            postsPerWeek
            averageEngagementPerPost
          }
        }
        landscape {
          series {
            metric
            average
            median
          }
          engagements {
            average
            median
          }
          engagementRate {
            average
            median
          }
          followerGrowthPercent {
            average
            median
          }
          postsPerWeek {
            average
            median
          }
          averageEngagementPerPost {
            average
            median
          }
        }
        shareOfVoice {
          mentions
          engagements
          members {
            account {
              id
            }
            mentions
            mentionShare
            engagements
            engagementShare
            points {
              at
              mentions
              mentionShare
              engagements
              engagementShare
            }
          }
        }
        byLikes: topPosts(by: { metric: LIKES }, first: 5) {
          rank
          value
          post {
            id
          }
          account {
            id
          }
          platform
          publishedAt
          engagements
        }
        byRate: topPosts(by: { engagementRate: FOLLOWERS }, first: 50) {
          rank
          value
          post {
            id
          }
        }
        breakoutPosts(k: $k) {
          post {
            id
          }
          account {
            id
          }
          platform
          engagements
          comparablePosts
          mean
          standardDeviation
          zScore
        }
      }
    }
  }
`;

interface Point {
  at: string;
  value: number | null;
}
interface Answer {
  competitorSet: {
    benchmark: {
      timeZone: string;
      buckets: { at: string; localStart: string }[];
      members: {
        account: { id: string };
        platform: string;
        series: {
          metric: string;
          total: number;
          points: Point[];
          values: number[];
          percentileRank: number | null;
        }[];
        engagements: number;
        engagementRate: { total: number | null; points: Point[]; values: (number | null)[] };
        followerGrowth: {
          start: number;
          end: number;
          change: number;
          changePercent: number | null;
        };
        posts: number;
        postsPerWeek: number;
        averageEngagementPerPost: number | null;
        ranks: Record<string, number | null>;
      }[];
      landscape: Record<string, unknown> & {
        series: { metric: string; average: number | null; median: number | null }[];
      };
      shareOfVoice: {
        mentions: number;
        engagements: number;
        members: {
          account: { id: string };
          mentions: number;
          mentionShare: number | null;
          engagements: number;
          engagementShare: number | null;
          points: {
            at: string;
            mentions: number;
            mentionShare: number | null;
            engagements: number;
            engagementShare: number | null;
          }[];
        }[];
      };
      byLikes: {
        rank: number;
        value: number;
        post: { id: string };
        account: { id: string };
        platform: string;
        publishedAt: string;
        engagements: number;
      }[];
      byRate: { rank: number; value: number; post: { id: string } }[];
      breakoutPosts: {
        post: { id: string };
        account: { id: string };
        platform: string;
        engagements: number;
        comparablePosts: number;
        mean: number;
        standardDeviation: number;
        zScore: number;
      }[];
    };
  } | null;
}

type Bench = NonNullable<Answer['competitorSet']>['benchmark'];

let loupe: RunningLoupe;
let keyB: string;
let setId: string;

async function graphql<T>(key: string, query: string, variables: object = {}) {
  const res = await fetch(loupe.urls.gateway!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
}

const postEvents = (key: string, events: readonly object[]) =>
  postAccepted(loupe.urls.ingest!, key, events);

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
  keyB = (await loupe.createOrganisation('Other org')).apiKey;
  // The other organisation's events carry the same account ids; none may reach A's figures.
  await postEvents(KEY, EVENTS);
  await postEvents(keyB, buildEvents(97, 'bm-b'));
  await loupe.caughtUp();
  const created = await graphql<{ createCompetitorSet: { id: string } }>(
    KEY,
    'mutation ($ids: [ID!]!) { createCompetitorSet(name: "Coffee", accountIds: $ids) { id } }',
    { ids: MEMBERS.map((m) => m.id) },
  );
  expect(created.errors).toBeUndefined();
  setId = created.data!.createCompetitorSet.id;
}, 120_000);
afterAll(async () => loupe?.close());

async function benchmark(zone: string | null, hourly: boolean, k = 5) {
  const reply = await graphql<Answer>(KEY, BENCHMARK, {
    id: setId,
    from: iso(FROM),
    to: iso(TO),
    g: hourly ? 'HOUR' : 'DAY',
    tz: zone,
    k,
  });
  expect(reply.errors).toBeUndefined();
  return reply.data!.competitorSet!.benchmark;
}

const close = (actual: number | null, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 9);
};

describe.each([
  { zone: null, shown: 'America/Los_Angeles', hourly: false },
  { zone: 'Asia/Kolkata', shown: 'Asia/Kolkata', hourly: false },
  { zone: 'Asia/Kolkata', shown: 'Asia/Kolkata', hourly: true },
])('a benchmark in $shown (hourly: $hourly)', ({ zone, shown, hourly }) => {
  let answer: Bench;
  let recounts: ReturnType<typeof recountMember>[];
  const key = (at: string) => localKey(Date.parse(at), shown, hourly);

  beforeAll(async () => {
    answer = await benchmark(zone, hourly);
    recounts = MEMBERS.map((m) => recountMember(m.id, shown, hourly));
  });

  test('buckets are local to the zone, and the members come in the set order', () => {
    expect(answer.timeZone).toBe(shown);
    const keys = answer.buckets.map((b) => key(b.at));
    expect(keys[0]).toBe(localKey(FROM, shown, hourly));
    expect(keys.at(-1)).toBe(localKey(TO - 1, shown, hourly));
    expect(new Set(keys).size).toBe(keys.length);
    expect(answer.members.map((m) => [m.account.id, m.platform])).toEqual(
      MEMBERS.map((m) => [m.id, m.platform.toUpperCase()]),
    );
  });

  test('head-to-head: every series total and bucket, and engagements, match the recount', () => {
    answer.members.forEach((member, i) => {
      const r = recounts[i]!;
      for (const s of member.series) {
        const metric = s.metric.toLowerCase() as MetricName;
        expect(s.total, `${member.account.id} ${metric}`).toBe(r.total(metric));
        const byKey = new Map(s.points.map((p) => [key(p.at), p.value]));
        for (const [k, v] of r.series(metric)) expect(byKey.get(k), `${metric} ${k}`).toBe(v);
        expect(s.points.reduce((a, p) => a + (p.value ?? 0), 0)).toBe(r.total(metric));
        // `values` is the recounted points' values, bucket for bucket.
        expect(s.values).toEqual(answer.buckets.map((b) => r.series(metric).get(key(b.at)) ?? 0));
      }
      expect(member.engagementRate.values).toEqual(
        member.engagementRate.points.map((p) => p.value),
      );
      expect(member.engagements).toBe(r.total('engagements'));
      expect(member.engagements).toBeGreaterThan(0);
    });
  });

  test('engagement rate by followers, per bucket and over the range', () => {
    answer.members.forEach((member, i) => {
      const r = recounts[i]!;
      const levels = member.engagementRate.points.map((p) => r.levelAt(key(p.at)));
      const known = levels.filter((l) => l > 0);
      const average = known.reduce((a, b) => a + b, 0) / known.length;
      close(member.engagementRate.total, r.total('engagements') / average);
      member.engagementRate.points.forEach((p, j) => {
        const engaged = r.series('engagements').get(key(p.at)) ?? 0;
        close(p.value, levels[j]! > 0 ? engaged / levels[j]! : null);
      });
    });
  });

  test('growth, posting frequency and average engagement per post', () => {
    answer.members.forEach((member, i) => {
      const r = recounts[i]!;
      expect(member.followerGrowth.start).toBe(r.followers.start);
      expect(member.followerGrowth.end).toBe(r.followers.end);
      expect(member.followerGrowth.change).toBe(r.followers.change);
      close(member.followerGrowth.changePercent, r.followers.changePercent);
      expect(member.posts).toBe(r.posts);
      expect(member.posts).toBe(MEMBERS[i]!.posts - 1);
      close(member.postsPerWeek, r.postsPerWeek);
      close(member.averageEngagementPerPost, r.averageEngagementPerPost);
    });
  });

  test('share of voice: mentions and engagements, per bucket and in total, summing to 1', () => {
    const voice = answer.shareOfVoice;
    const mentions = recounts.reduce((s, r) => s + r.mentions, 0);
    const engagements = recounts.reduce((s, r) => s + r.total('engagements'), 0);
    expect(voice.mentions).toBe(mentions);
    expect(voice.engagements).toBe(engagements);
    voice.members.forEach((m, i) => {
      const r = recounts[i]!;
      expect(m.account.id).toBe(MEMBERS[i]!.id);
      expect(m.mentions).toBe(r.mentions);
      close(m.mentionShare, r.mentions / mentions);
      close(m.engagementShare, r.total('engagements') / engagements);
      m.points.forEach((p) => {
        const k = key(p.at);
        expect(p.mentions, `${m.account.id} mentions ${k}`).toBe(r.mentionsBy.get(k) ?? 0);
        const bucketMentions = recounts.reduce((s, x) => s + (x.mentionsBy.get(k) ?? 0), 0);
        close(p.mentionShare, bucketMentions > 0 ? p.mentions / bucketMentions : null);
        expect(p.engagements).toBe(r.series('engagements').get(k) ?? 0);
      });
    });
    const sum = (f: (m: (typeof voice.members)[number]) => number | null) =>
      voice.members.reduce((s, m) => s + (f(m) ?? 0), 0);
    expect(sum((m) => m.mentionShare)).toBeCloseTo(1, 12);
    expect(sum((m) => m.engagementShare)).toBeCloseTo(1, 12);
    answer.buckets.forEach((_, j) => {
      const shares = voice.members.map((m) => m.points[j]!.mentionShare);
      if (shares.some((s) => s !== null)) {
        expect(shares.reduce<number>((a, b) => a + (b ?? 0), 0)).toBeCloseTo(1, 12);
      }
    });
  });

  test('percentile ranks within the set, and the landscape average and median', () => {
    const figures: Record<string, (number | null)[]> = {
      engagements: recounts.map((r) => r.total('engagements')),
      engagementRate: answer.members.map((m) => m.engagementRate.total),
      followerGrowthPercent: recounts.map((r) => r.followers.changePercent),
      postsPerWeek: recounts.map((r) => r.postsPerWeek),
      averageEngagementPerPost: recounts.map((r) => r.averageEngagementPerPost),
    };
    for (const [figure, values] of Object.entries(figures)) {
      answer.members.forEach((m, i) => close(m.ranks[figure] ?? null, percentile(values, i)));
      const stat = answer.landscape[figure] as { average: number | null; median: number | null };
      const expected = averageAndMedian(values);
      close(stat.average, expected.average);
      close(stat.median, expected.median);
    }
    for (const [i, s] of answer.landscape.series.entries()) {
      const metric = s.metric.toLowerCase() as MetricName;
      const totals = recounts.map((r) => r.total(metric));
      const expected = averageAndMedian(totals);
      close(s.average, expected.average);
      close(s.median, expected.median);
      answer.members.forEach((m, j) => close(m.series[i]!.percentileRank, percentile(totals, j)));
    }
    // Four members: ranks are multiples of 100/6 (thirds, with halves for ties).
    expect(answer.members.map((m) => m.ranks['engagements'])).toContain(100);
  });
});

describe('posts across the set', () => {
  const posts = recountPosts();

  test('top posts by likes and by engagement rate on followers', async () => {
    const answer = await benchmark('Asia/Kolkata', false);
    const byLikes = [...posts].sort((a, b) => b.likes - a.likes || (a.id < b.id ? -1 : 1));
    expect(answer.byLikes.map((p) => [p.rank, p.post.id, p.value])).toEqual(
      byLikes.slice(0, 5).map((p, i) => [i + 1, p.id, p.likes]),
    );
    expect(answer.byLikes[0]).toMatchObject({
      post: { id: PLANTED },
      account: { id: 'bm-ig-2' },
      platform: 'INSTAGRAM',
      publishedAt: iso(posts.find((p) => p.id === PLANTED)!.publishedAt),
      engagements: posts.find((p) => p.id === PLANTED)!.engagements,
    });
    const rated = posts
      .filter((p) => (p.followers ?? 0) > 0)
      .map((p) => ({ id: p.id, rate: p.engagements / p.followers! }))
      .sort((a, b) => b.rate - a.rate || (a.id < b.id ? -1 : 1));
    expect(answer.byRate.map((p) => p.post.id)).toEqual(rated.map((p) => p.id));
    answer.byRate.forEach((p, i) => close(p.value, rated[i]!.rate));
  });

  test('breakout posts: the planted outlier with its evidence; none when k is large', async () => {
    const answer = await benchmark(null, false);
    const expected = posts.flatMap((p) => {
      const others = posts.filter((o) => o.platform === p.platform && o.id !== p.id);
      if (others.length < 5) return [];
      const mean = others.reduce((s, o) => s + o.engagements, 0) / others.length;
      const sd = Math.sqrt(
        others.reduce((s, o) => s + (o.engagements - mean) ** 2, 0) / others.length,
      );
      const z = (p.engagements - mean) / sd;
      return sd > 0 && z > 5 ? [{ id: p.id, n: others.length, mean, sd, z }] : [];
    });
    expect(expected.map((e) => e.id)).toContain(PLANTED);
    expect(answer.breakoutPosts.map((b) => b.post.id)).toEqual(
      expected.sort((a, b) => b.z - a.z).map((e) => e.id),
    );
    answer.breakoutPosts.forEach((b, i) => {
      const e = expected[i]!;
      expect(b.comparablePosts).toBe(e.n);
      close(b.mean, e.mean);
      close(b.standardDeviation, e.sd);
      close(b.zScore, e.z);
    });
    expect(answer.breakoutPosts[0]).toMatchObject({
      account: { id: 'bm-ig-2' },
      platform: 'INSTAGRAM',
      comparablePosts: 11,
    });
    expect((await benchmark(null, false, 1000)).breakoutPosts).toEqual([]);
  });
});

describe('tenancy', () => {
  test("another organisation sees none of A's sets and cannot use A's set id or accounts", async () => {
    const seen = await graphql<{ competitorSet: unknown; competitorSets: unknown[] }>(
      keyB,
      'query ($id: ID!) { competitorSet(id: $id) { id } competitorSets { id } }',
      { id: setId },
    );
    expect(seen.data).toEqual({ competitorSet: null, competitorSets: [] });
    // B tracks accounts of the same ids (its own events): its set holds its own data only.
    const own = await graphql<{ createCompetitorSet: { id: string } }>(
      keyB,
      'mutation ($ids: [ID!]!) { createCompetitorSet(name: "Coffee", accountIds: $ids) { id } }',
      { ids: ['bm-x'] },
    );
    expect(own.errors).toBeUndefined();
    const refused = await graphql(
      keyB,
      'mutation ($id: ID!) { setCompetitorSetMembers(id: $id, accountIds: ["bm-ig-1"]) { id } }',
      { id: setId },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const a = await benchmark(null, false);
    const b = await graphql<Answer>(keyB, BENCHMARK, {
      id: own.data!.createCompetitorSet.id,
      from: iso(FROM),
      to: iso(TO),
      g: 'DAY',
      tz: null,
      k: 5,
    });
    expect(b.errors).toBeUndefined();
    const bx = b.data!.competitorSet!.benchmark.members[0]!;
    const ax = a.members.find((m) => m.account.id === 'bm-x')!;
    const recountB = recountBy(
      buildEvents(97, 'bm-b').filter((e) => e.accountId === 'bm-x'),
      () => 'all',
      { from: FROM, to: TO },
    );
    expect(bx.engagements).toBe(recountB.get('engagements')?.get('all') ?? 0);
    expect(bx.engagements).not.toBe(ax.engagements);
  });
});

describe('kept answers', () => {
  test('mentions and lifetime counters written after an answer are in the next one', async () => {
    const before = await benchmark(null, false);
    const top = before.byLikes[0]!;
    const account = top.account.id;
    const platform = MEMBERS.find((m) => m.id === account)!.platform;
    const mention = (id: string, at: number): EventInput => ({
      platform,
      accountId: account,
      id,
      type: 'comment',
      kind: 'mention',
      commentId: id,
      text: 'late mention',
      occurredAt: iso(at),
    });
    // In the range: in its first quarter-hour, in a whole one, in its last; and just outside it.
    await postEvents(KEY, [
      mention('kept-head', FROM + 250),
      mention('kept-core', FROM + 5 * HOUR),
      mention('kept-tail', TO - 1),
      mention('kept-before', FROM - 1_000),
      mention('kept-after', TO),
      {
        platform,
        accountId: account,
        id: 'kept-likes',
        type: 'engagement',
        metric: 'likes',
        mode: 'delta',
        value: 7,
        postId: top.post.id,
        // After the range: the post's lifetime counts it, the range's series do not.
        occurredAt: iso(TO + HOUR),
      },
    ]);
    await loupe.caughtUp();
    const after = await benchmark(null, false);
    const voice = (b: Bench) => b.shareOfVoice.members.find((m) => m.account.id === account)!;
    expect(after.shareOfVoice.mentions).toBe(before.shareOfVoice.mentions + 3);
    expect(voice(after).mentions).toBe(voice(before).mentions + 3);
    const liked = after.byLikes.find((p) => p.post.id === top.post.id)!;
    expect(liked.value).toBe(top.value + 7);
    expect(liked.engagements).toBe(top.engagements + 7);
    const engagements = (b: Bench) => b.members.find((m) => m.account.id === account)!.engagements;
    expect(engagements(after)).toBe(engagements(before));
  });
});
