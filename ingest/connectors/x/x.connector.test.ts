// The X connector against the X fake: pagination, limits, token refresh and rotation, failures,
// and a poll crashed mid-pagination then resumed, recounted against the fake's own posts.
import { afterEach, describe, expect, it } from 'vitest';
import { eventInputSchema, type EventInput } from '../../../schema/event-envelope.ts';
import {
  distinctById,
  pollOnce,
  type PollOptions,
  type PollRun,
} from '../../../test/support/connector-harness.ts';
import type { UserSeed, XPost } from '../../../test/fakes/x/x-data.ts';
import {
  DEFAULT_X_CLIENT,
  X_ENDPOINTS,
  startXFake,
  type XFake,
  type XFakeOptions,
} from '../../../test/fakes/x/x.fake.ts';
import type { IssuedToken } from '../../../test/fakes/x/x-tokens.ts';
import { ConnectorError, type Checkpoint, type Connection } from '../connector.ts';
import { createXConnector } from './x.connector.ts';
import { createXProtocol } from './x.protocol.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const fakes: XFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

interface Setup {
  fake: XFake;
  userId: string;
  token: IssuedToken;
  poll: (extra?: Partial<PollOptions>) => Promise<PollRun>;
}

async function setup(
  user: UserSeed = {},
  fakeOptions: XFakeOptions = {},
  connector = createXConnector(),
): Promise<Setup> {
  const fake = await startXFake(fakeOptions);
  fakes.push(fake);
  const seeded = fake.addUser({
    id: '2244994945',
    username: 'loupe_demo',
    name: 'Loupe Demo',
    posts: 250,
    seed: 'x-connector',
    ...user,
  });
  const token = fake.issueToken(seeded.id);
  const protocol = createXProtocol({
    baseUrl: fake.url,
    clientId: DEFAULT_X_CLIENT.id,
    clientSecret: DEFAULT_X_CLIENT.secret,
    ...(fakeOptions.now && { now: fakeOptions.now }),
  });
  const connection: Connection = {
    orgId: 'org-1',
    accountId: 'acct-x-1',
    platform: 'x',
    platformAccountId: seeded.id,
  };
  return {
    fake,
    userId: seeded.id,
    token,
    poll: (extra = {}) =>
      pollOnce({ connector, protocol, connection, credentials: token, ...extra }),
  };
}

type Pass = { slot: number; untilId: string | null; stopAt: number };
const passOf = (checkpoint: Checkpoint | undefined) => checkpoint?.pass as Pass | null | undefined;

const posts = (events: readonly EventInput[]) =>
  events.filter((e): e is Extract<EventInput, { type: 'post' }> => e.type === 'post');

/** What X's counters are under Loupe's names. */
function expectedTotals(post: XPost): Record<string, number> {
  const m = post.metrics;
  return {
    likes: m.like_count,
    comments: m.reply_count,
    shares: m.retweet_count,
    quotes: m.quote_count,
    bookmarks: m.bookmark_count,
    impressions: m.impression_count,
  };
}

/**
 * The events, distinct by id as the pipeline keeps them, hold exactly the fake's posts from
 * `stopAt` on (within the 3,200 cap), each with one total per counter equal to the fake's.
 */
function expectExactly(events: readonly EventInput[], fake: XFake, userId: string, stopAt: number) {
  for (const e of events) {
    expect(eventInputSchema.safeParse(e).success, JSON.stringify(e)).toBe(true);
    expect(e.accountId).toBe('acct-x-1');
    expect(e.platform).toBe('x');
  }
  const truth = fake
    .truth(userId)
    .posts.slice(0, 3200)
    .filter((p) => p.createdAt >= stopAt);
  expect(truth.length).toBeGreaterThan(0);
  const kept = [...distinctById(events).values()];
  const postIds = posts(kept).map((e) => e.postId);
  expect(postIds.length).toBe(new Set(postIds).size);
  expect(new Set(postIds)).toEqual(new Set(truth.map((p) => `x:${p.id}`)));

  const totals = new Map<string, number[]>();
  for (const e of kept) {
    if (e.type !== 'engagement') continue;
    expect(e.mode).toBe('total');
    const key = `${e.postId}|${e.metric}`;
    totals.set(key, [...(totals.get(key) ?? []), e.value]);
  }
  for (const post of truth) {
    for (const [metric, value] of Object.entries(expectedTotals(post))) {
      expect(totals.get(`x:${post.id}|${metric}`), `${post.id} ${metric}`).toEqual([value]);
    }
  }
  expect(totals.size).toBe(truth.length * 6);
}

function expectConnectorError(run: PollRun, kind: ConnectorError['kind'], token: IssuedToken) {
  expect(run.error).toBeInstanceOf(ConnectorError);
  const error = run.error as ConnectorError;
  expect(error.kind).toBe(kind);
  const said = `${error.message} ${JSON.stringify(error)}`;
  expect(said).not.toContain(token.accessToken);
  expect(said).not.toContain(token.refreshToken!);
  for (const c of run.stored) {
    expect(said).not.toContain(c.accessToken);
    if (c.refreshToken) expect(said).not.toContain(c.refreshToken);
  }
  return error;
}

const timelineCalls = (fake: XFake) =>
  fake.calls.filter((c) => c.endpoint === X_ENDPOINTS.timeline);

describe('X connector', () => {
  it('reads every post of the horizon newest first across several pages, with their totals', async () => {
    // About 100 days of posts: the 90-day horizon cuts the oldest off.
    const { fake, userId, poll } = await setup({ posts: 400, spacingMs: 6 * HOUR });
    const run = await poll();
    expect(run.error).toBeUndefined();

    const first = passOf(run.checkpoints[0])!;
    expect(first.stopAt).toBeGreaterThan(Date.now() - 90 * DAY - 60_000);
    expectExactly(run.events, fake, userId, first.stopAt);
    expect(fake.truth(userId).posts.at(-1)!.createdAt).toBeLessThan(first.stopAt);

    const pages = timelineCalls(fake);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.filter((c) => c.query.pagination_token !== undefined).length).toBe(
      pages.length - 1,
    );
    for (const c of pages) expect(c.query.max_results).toBe('100');

    const published = posts(run.events).map((e) => Date.parse(e.publishedAt));
    expect(published).toEqual([...published].sort((a, b) => b - a));
    const newest = fake.truth(userId).posts[0]!;
    expect(posts(run.events)[0]!.url).toBe(`https://x.com/loupe_demo/status/${newest.id}`);

    // One page emitted per call, after the profile; the last one closes the pass.
    expect(run.checkpoints.length).toBe(1 + pages.length);
    expect(run.checkpoints.at(-1)).toEqual({ pass: null, newestSeen: newest.createdAt });

    const profiles = run.events.filter((e) => e.type === 'profile');
    const truth = fake.truth(userId);
    expect(profiles).toEqual([
      expect.objectContaining({
        handle: 'loupe_demo',
        displayName: 'Loupe Demo',
        followers: truth.followers,
        following: truth.following,
        postCount: 400,
      }),
    ]);
  });

  it('stops at the 3,200 most recent posts', async () => {
    const { fake, userId, poll } = await setup({ posts: 3500, spacingMs: 20 * 60_000 });
    const run = await poll();
    expect(run.error).toBeUndefined();
    expect(distinctById(posts(run.events)).size).toBe(3200);
    expectExactly(run.events, fake, userId, 0);
    expect(timelineCalls(fake).length).toBe(32);
  });

  it('waits for the announced reset after a 429 and goes on', async () => {
    const { fake, userId, poll } = await setup({ posts: 250 });
    fake.inject429({ userId, endpoint: X_ENDPOINTS.timeline, resetInMs: 300 });
    const run = await poll();
    expect(run.error).toBeUndefined();
    expect(run.stats.throttled).toBe(1);
    expect(fake.stats().tooManyRequests).toBe(1);
    const pages = timelineCalls(fake);
    expect(pages[0]!.status).toBe(429);
    expect(pages[1]!.status).toBe(200);
    expect(pages[1]!.at - pages[0]!.at).toBeGreaterThanOrEqual(290);
    expectExactly(run.events, fake, userId, passOf(run.checkpoints[0])!.stopAt);
  });

  it('gets no 429 at all when the headers announce the limit: the limiter waits first', async () => {
    const { fake, userId, poll } = await setup(
      { posts: 450, spacingMs: 3 * HOUR },
      { windowMs: 1000, limits: { [X_ENDPOINTS.timeline]: 2 } },
    );
    const run = await poll();
    expect(run.error).toBeUndefined();
    const pages = timelineCalls(fake);
    expect(pages.length).toBe(5);
    expect(fake.stats().tooManyRequests).toBe(0);
    expect(run.stats.throttled).toBe(0);
    // Five calls at two per window take at least two resets.
    expect(pages.at(-1)!.at - pages[0]!.at).toBeGreaterThanOrEqual(2000);
    expectExactly(run.events, fake, userId, passOf(run.checkpoints[0])!.stopAt);
  });

  it('refreshes an expired token once, stores the rotated refresh token and goes on', async () => {
    const { fake, userId, token, poll } = await setup();
    fake.expire(token.accessToken);
    const run = await poll();
    expect(run.error).toBeUndefined();
    expect(run.stats.refreshed).toBe(1);
    expect(run.stored).toHaveLength(1);
    const fresh = run.stored[0]!;
    expect(fresh.accessToken).not.toBe(token.accessToken);
    expect(fresh.refreshToken).toBeDefined();
    expect(fresh.refreshToken).not.toBe(token.refreshToken);
    expect(fresh.expiresAt).toBeGreaterThan(Date.now() + 7000_000);
    expect(run.credentials).toEqual(fresh);
    expect(fake.calls.slice(0, 3).map((c) => `${c.status} ${c.endpoint}`)).toEqual([
      `401 ${X_ENDPOINTS.user}`,
      '200 POST /2/oauth2/token',
      `200 ${X_ENDPOINTS.user}`,
    ]);
    expectExactly(run.events, fake, userId, passOf(run.checkpoints[0])!.stopAt);

    // The next poll uses the rotated pair; the old refresh token would now end the grant.
    fake.expire(fresh.accessToken);
    const again = await poll({ credentials: fresh, checkpoint: run.checkpoints.at(-1)! });
    expect(again.error).toBeUndefined();
    expect(again.stored[0]!.refreshToken).not.toBe(fresh.refreshToken);
  });

  it('refreshes ahead of expiry on the clock, before any call is refused', async () => {
    let clock = Date.parse('2026-09-01T12:00:00Z');
    const now = () => clock;
    const { fake, userId, poll } = await setup({}, { now });
    clock += 2 * HOUR - 4 * 60_000;
    const run = await poll({ now });
    expect(run.error).toBeUndefined();
    expect(run.stored).toHaveLength(1);
    expect(run.stored[0]!.expiresAt).toBe(clock + 2 * HOUR);
    expect(fake.calls[0]!.endpoint).toBe('POST /2/oauth2/token');
    expect(fake.calls.filter((c) => c.status === 401)).toHaveLength(0);
    expectExactly(run.events, fake, userId, passOf(run.checkpoints[0])!.stopAt);
  });

  it('backs off on 5xx and succeeds', async () => {
    const { fake, userId, poll } = await setup();
    fake.inject({ status: 503, count: 2, endpoint: X_ENDPOINTS.timeline });
    const run = await poll();
    expect(run.error).toBeUndefined();
    expect(run.stats.retried).toBeGreaterThanOrEqual(2);
    expect(
      timelineCalls(fake)
        .slice(0, 3)
        .map((c) => c.status),
    ).toEqual([503, 503, 200]);
    expectExactly(run.events, fake, userId, passOf(run.checkpoints[0])!.stopAt);
  });

  it('gives up on 5xx after its tries, saying why', async () => {
    const { fake, token, poll } = await setup();
    fake.inject({ status: 500, count: 100, endpoint: X_ENDPOINTS.timeline });
    const run = await poll();
    const error = expectConnectorError(run, 'failed', token);
    expect(error.message).toContain('Internal Server Error');
    expect(timelineCalls(fake)).toHaveLength(4);
  });

  it('ends with revoked when the user took access away', async () => {
    const { fake, userId, token, poll } = await setup();
    fake.revoke(userId);
    const run = await poll();
    expectConnectorError(run, 'revoked', token);
    expect(run.events).toHaveLength(0);
    expect(fake.calls.map((c) => c.status)).toEqual([401, 400]);
  });

  it('does not retry a usage cap', async () => {
    const { fake, token, poll } = await setup();
    fake.inject429({ usageCapped: 1 });
    const run = await poll();
    const error = expectConnectorError(run, 'failed', token);
    expect(error.message).toContain('usage cap');
    expect(fake.calls).toHaveLength(1);
  });

  it('fails on other refusals with the problem title, once', async () => {
    const narrow = await setup({}, {}, createXConnector({ pageSize: 500 }));
    const run = await narrow.poll();
    const error = expectConnectorError(run, 'failed', narrow.token);
    expect(error.message).toContain('HTTP 400 Invalid Request');
    expect(timelineCalls(narrow.fake)).toHaveLength(1);

    const scoped = await setup();
    const reader = scoped.fake.issueToken(scoped.userId, { scopes: ['tweet.read'] });
    const forbidden = await scoped.poll({ credentials: reader });
    expect(expectConnectorError(forbidden, 'failed', reader).message).toContain('HTTP 403');
  });

  for (const crashAfterEmits of [1, 2, 4]) {
    it(`resumes a pass crashed after ${crashAfterEmits} emits: no duplicate, no gap`, async () => {
      const { fake, userId, poll } = await setup({ posts: 450, spacingMs: 4 * HOUR });
      const slot = Date.now();
      const crashed = await poll({ slot, crashAfterEmits });
      expect(String(crashed.error)).toContain('crashed (test)');
      expect(crashed.checkpoints).toHaveLength(crashAfterEmits);
      const last = crashed.checkpoints.at(-1)!;
      const pass = passOf(last)!;
      expect(pass.slot).toBe(slot);
      const callsBefore = fake.calls.length;

      const resumed = await poll({ slot: slot + 3_600_000, checkpoint: last });
      expect(resumed.error).toBeUndefined();
      const firstPage = fake.calls
        .slice(callsBefore)
        .find((c) => c.endpoint === X_ENDPOINTS.timeline)!;
      expect(firstPage.query.pagination_token).toBeUndefined();
      expect(firstPage.query.until_id).toBe(pass.untilId ?? undefined);

      const all = [...crashed.events, ...resumed.events];
      expectExactly(all, fake, userId, pass.stopAt);
      // Nothing was read twice: the resumed pass started below the last stored page.
      expect(posts(all)).toHaveLength(distinctById(posts(all)).size);
      for (const e of resumed.events) {
        if (e.type === 'engagement') expect(e.id.endsWith(`:${slot}`)).toBe(true);
      }
      expect(distinctById(all.filter((e) => e.type === 'profile')).size).toBe(1);
      expect(resumed.checkpoints.at(-1)).toEqual({
        pass: null,
        newestSeen: fake.truth(userId).posts[0]!.createdAt,
      });
    });
  }

  it('adds no new post ids on a second poll, and refreshes only the last week', async () => {
    const { fake, userId, poll } = await setup({ posts: 300, spacingMs: 6 * HOUR });
    const first = await poll({ slot: 1 });
    expect(first.error).toBeUndefined();
    const second = await poll({ slot: 2, checkpoint: first.checkpoints.at(-1)! });
    expect(second.error).toBeUndefined();

    const before = new Set(posts(first.events).map((e) => e.id));
    const again = posts(second.events);
    expect(again.length).toBeGreaterThan(0);
    for (const e of again) expect(before.has(e.id)).toBe(true);
    const stopAt = passOf(second.checkpoints[0])!.stopAt;
    expect(stopAt).toBeLessThanOrEqual(Date.now() - 7 * DAY);
    expect(stopAt).toBeGreaterThan(Date.now() - 7 * DAY - 60_000);
    expectExactly(second.events, fake, userId, stopAt);
    const firstIds = new Set(first.events.map((e) => e.id));
    const metrics = second.events.filter((e) => e.type === 'engagement');
    for (const e of metrics) expect(firstIds.has(e.id)).toBe(false);

    // A post published since then is read by the next poll.
    const fresh = fake.addPost(userId, { text: 'just now' });
    const third = await poll({ slot: 3, checkpoint: second.checkpoints.at(-1)! });
    const newIds = posts(third.events).filter((e) => !before.has(e.id));
    expect(newIds.map((e) => e.postId)).toEqual([`x:${fresh.id}`]);
    expect(third.checkpoints.at(-1)).toEqual({ pass: null, newestSeen: fresh.createdAt });
  });

  it('reads the counters under the OpenAPI spec 2.167 names too', async () => {
    const { fake, userId, poll } = await setup({ posts: 120 }, { fieldNames: 'spec-2.167' });
    const run = await poll();
    expect(run.error).toBeUndefined();
    expectExactly(run.events, fake, userId, passOf(run.checkpoints[0])!.stopAt);
    const profile = run.events.find((e) => e.type === 'profile');
    expect(profile).toMatchObject({ postCount: 120 });
  });
});
