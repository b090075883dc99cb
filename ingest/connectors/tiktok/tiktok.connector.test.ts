// The TikTok connector against the TikTok fake: paging, limits, tokens, faults, and a crash in
// the middle of pagination recounted against the fake's own data.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventInputSchema, type EventInput } from '../../../schema/event-envelope.ts';
import {
  distinctById,
  pollOnce,
  type PollOptions,
  type PollRun,
} from '../../../test/support/connector-harness.ts';
import {
  startTikTokFake,
  type IssuedToken,
  type TikTokFake,
  type TikTokFakeOptions,
  type UserSeed,
} from '../../../test/fakes/tiktok/tiktok.fake.ts';
import { ConnectorError, type Connection, type Credentials } from '../connector.ts';
import { RateLimiter } from '../rate-limiter.ts';
import { createTikTokConnector } from './tiktok.connector.ts';
import { createTikTokProtocol, type TikTokProtocolOptions } from './tiktok.protocol.ts';

const DAY = 86_400_000;
const connector = createTikTokConnector();

let fake: TikTokFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Every token issued and every error a poll ended with, checked together at the end. */
const issuedTokens: string[] = [];
const errors: unknown[] = [];

afterAll(() => {
  expect(errors.length).toBeGreaterThan(3);
  for (const error of errors) {
    const text = `${String(error)} ${error instanceof Error ? error.stack : ''}`;
    for (const token of issuedTokens) expect(text).not.toContain(token);
  }
});

interface Setup {
  fake: TikTokFake;
  protocol: ReturnType<typeof createTikTokProtocol>;
  connection: Connection;
  credentials: Credentials;
  token: IssuedToken;
  poll(extra?: Partial<PollOptions>): Promise<PollRun>;
}

function credentialsOf(t: IssuedToken): Credentials {
  return {
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    expiresAt: t.expiresAt,
    refreshExpiresAt: t.refreshExpiresAt,
  };
}

async function setup(
  user: Partial<UserSeed> = {},
  fakeOptions: TikTokFakeOptions = {},
  protocolOptions: Partial<TikTokProtocolOptions> = {},
  scopes?: string[],
): Promise<Setup> {
  const f = (fake ??= await startTikTokFake(fakeOptions));
  const openId = f.addUser({ openId: 'open-1', videoCount: 50, gapMs: DAY, ...user });
  const token = f.issueToken(openId, scopes);
  issuedTokens.push(token.accessToken, token.refreshToken);
  const protocol = createTikTokProtocol({
    baseUrl: f.url,
    clientKey: f.clientKey,
    clientSecret: f.clientSecret,
    ...protocolOptions,
  });
  const connection: Connection = {
    orgId: 'org-1',
    accountId: `acct-${openId}`,
    platform: 'tiktok',
    platformAccountId: openId,
  };
  const credentials = credentialsOf(token);
  return {
    fake: f,
    protocol,
    connection,
    credentials,
    token,
    poll: async (extra = {}) => {
      const run = await pollOnce({ connector, protocol, connection, credentials, ...extra });
      for (const c of run.stored) issuedTokens.push(c.accessToken, c.refreshToken ?? '');
      if (run.error !== undefined) errors.push(run.error);
      return run;
    },
  };
}

const posts = (events: readonly EventInput[]) =>
  events.filter((e) => e.type === 'post').map((e) => e.postId);

/** What the fake holds that a first poll should read: public videos within the horizon. */
function expectedVideos(f: TikTokFake, openId: string, since: number) {
  return f.truth(openId).videos.filter((v) => v.create_time * 1000 >= since);
}

/** Each video's four totals exactly once, equal to the fake's counters. */
function expectTotalsMatch(
  events: readonly EventInput[],
  f: TikTokFake,
  openId: string,
  since: number,
) {
  const distinct = [...distinctById(events).values()];
  const totals = new Map<string, number[]>();
  for (const e of distinct) {
    if (e.type !== 'engagement') continue;
    expect(e.mode).toBe('total');
    const key = `${e.postId}|${e.metric}`;
    totals.set(key, [...(totals.get(key) ?? []), e.value]);
  }
  const videos = expectedVideos(f, openId, since);
  const expected = new Map<string, number[]>();
  for (const v of videos) {
    const postId = `tiktok:${v.id}`;
    expected.set(`${postId}|likes`, [v.like_count]);
    expected.set(`${postId}|comments`, [v.comment_count]);
    expected.set(`${postId}|shares`, [v.share_count]);
    expected.set(`${postId}|views`, [v.view_count]);
  }
  expect(totals).toEqual(expected);
  expect(new Set(posts(distinct))).toEqual(new Set(videos.map((v) => `tiktok:${v.id}`)));
}

const listCalls = (f: TikTokFake) => f.calls.filter((c) => c.path === '/v2/video/list/');

describe('TikTok connector', () => {
  it('reads the profile and pages through several cursors back to the horizon', async () => {
    const s = await setup({ videoCount: 120, privateShare: 0.2, seed: 11 });
    const started = Date.now();
    const run = await s.poll();
    expect(run.error).toBeUndefined();
    const since = started - 90 * DAY;
    const expected = expectedVideos(s.fake, 'open-1', since);
    expect(expected.length).toBeGreaterThan(40);
    expect(s.fake.truth('open-1').videos.length).toBeGreaterThan(expected.length); // some are older
    expect(listCalls(s.fake).length).toBeGreaterThanOrEqual(4);
    expect(posts(run.events)).toEqual(expected.map((v) => `tiktok:${v.id}`));
    expectTotalsMatch(run.events, s.fake, 'open-1', since);

    for (const e of run.events) {
      expect(eventInputSchema.safeParse(e).success).toBe(true);
      expect(e).toMatchObject({ platform: 'tiktok', accountId: 'acct-open-1' });
    }
    const profile = run.events.filter((e) => e.type === 'profile');
    const user = s.fake.truth('open-1').user;
    expect(profile).toEqual([
      expect.objectContaining({
        handle: user.username,
        displayName: user.display_name,
        followers: user.follower_count,
        following: user.following_count,
        postCount: user.video_count,
      }),
    ]);
    const newest = expected[0]!;
    const post = run.events.find((e) => e.type === 'post')!;
    expect(post).toMatchObject({
      id: `tiktok:post:${newest.id}`,
      action: 'published',
      mediaType: 'video',
      url: newest.share_url,
      content: newest.title || newest.video_description,
      publishedAt: new Date(newest.create_time * 1000).toISOString(),
    });

    // One checkpoint per emit; mid-pass ones hold a cursor moving back in time, the last none.
    expect(run.checkpoints).toHaveLength(listCalls(s.fake).length + 1);
    const cursors = run.checkpoints.slice(1, -1).map((c) => (c.pass as { cursor: number }).cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => b - a));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(run.checkpoints.at(-1)).toEqual({ pass: null, newestSeen: newest.create_time * 1000 });
  });

  it('waits out 429s from a limit tighter than it knew, and resumes', async () => {
    const s = await setup(
      { videoCount: 100, gapMs: DAY / 2 },
      { rateLimit: { calls: 2, windowMs: 250 } },
      { limit: { calls: 100, windowMs: 250 }, limitMarginMs: 0 },
    );
    const started = Date.now();
    const run = await s.poll();
    expect(run.error).toBeUndefined();
    expect(s.fake.stats.throttled).toBeGreaterThan(0);
    expect(run.stats.throttled).toBe(s.fake.stats.throttled);
    expectTotalsMatch(run.events, s.fake, 'open-1', started - 90 * DAY);
  });

  it('waits out injected 429s', async () => {
    const s = await setup({ videoCount: 30 }, {}, { limit: { calls: 600, windowMs: 100 } });
    s.fake.inject429(2, '/v2/video/list/');
    const run = await s.poll();
    expect(run.error).toBeUndefined();
    expect(run.stats.throttled).toBe(2);
    expect(posts(run.events)).toHaveLength(30);
  });

  it('gets no 429 when its limit matches the fake’s, two polls sharing one limiter', async () => {
    const limit = { calls: 4, windowMs: 400 };
    const s = await setup(
      { videoCount: 90, gapMs: DAY / 2 },
      { rateLimit: limit },
      { limit, limitMarginMs: 150 },
    );
    s.fake.addUser({ openId: 'open-2', videoCount: 90, gapMs: DAY / 2 });
    const other = s.fake.issueToken('open-2');
    issuedTokens.push(other.accessToken, other.refreshToken);
    const limiter = new RateLimiter();
    const started = Date.now();
    const [a, b] = await Promise.all([
      s.poll({ limiter }),
      s.poll({
        limiter,
        connection: { ...s.connection, accountId: 'acct-open-2', platformAccountId: 'open-2' },
        credentials: credentialsOf(other),
      }),
    ]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    // 10 video list calls at 4 per 400 ms: the limiter had to hold some back.
    expect(listCalls(s.fake)).toHaveLength(10);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * limit.windowMs);
    expect(s.fake.stats.throttled).toBe(0);
    expectTotalsMatch(a.events, s.fake, 'open-1', started - 90 * DAY);
    expectTotalsMatch(b.events, s.fake, 'open-2', started - 90 * DAY);
  });

  it('gets 429s when the same two polls keep separate limiters (the test above can fail)', async () => {
    const limit = { calls: 4, windowMs: 400 };
    const s = await setup(
      { videoCount: 90, gapMs: DAY / 2 },
      { rateLimit: limit },
      { limit, limitMarginMs: 150 },
    );
    s.fake.addUser({ openId: 'open-2', videoCount: 90, gapMs: DAY / 2 });
    const other = s.fake.issueToken('open-2');
    issuedTokens.push(other.accessToken, other.refreshToken);
    await Promise.all([
      s.poll({ limiter: new RateLimiter() }),
      s.poll({
        limiter: new RateLimiter(),
        connection: { ...s.connection, accountId: 'acct-open-2', platformAccountId: 'open-2' },
        credentials: credentialsOf(other),
      }),
    ]);
    expect(s.fake.stats.throttled).toBeGreaterThan(0);
  });

  it('refreshes an expired token, stores the new credentials and continues', async () => {
    const s = await setup({ videoCount: 45 });
    s.fake.expire(s.token.accessToken);
    const run = await s.poll();
    expect(run.error).toBeUndefined();
    expect(run.stored).toHaveLength(1);
    const stored = run.stored[0]!;
    expect(stored.accessToken).toMatch(/^act\./);
    expect(stored.accessToken).not.toBe(s.token.accessToken);
    expect(stored.refreshToken).toBe(s.token.refreshToken); // the fake does not rotate by default
    expect(stored.expiresAt! - Date.now()).toBeGreaterThan(86_300_000);
    expect(run.credentials).toEqual(stored);
    expect(posts(run.events)).toHaveLength(45);
    expect(s.fake.calls.map((c) => c.status).slice(0, 3)).toEqual([401, 200, 200]);
  });

  it('refreshes ahead of expiry, and keeps a rotated refresh token', async () => {
    const s = await setup({ videoCount: 5 }, { rotateRefreshTokens: true });
    const run = await s.poll({
      credentials: { ...s.credentials, expiresAt: Date.now() + 10 * 60_000 },
    });
    expect(run.error).toBeUndefined();
    expect(s.fake.calls[0]).toMatchObject({ path: '/v2/oauth/token/', status: 200 });
    expect(run.stored[0]!.refreshToken).toMatch(/^rft\./);
    expect(run.stored[0]!.refreshToken).not.toBe(s.token.refreshToken);
    expect(s.fake.calls.filter((c) => c.status !== 200)).toEqual([]);
  });

  it('backs off after 5xx answers and succeeds', async () => {
    const s = await setup({ videoCount: 45 });
    s.fake.inject({ status: 500, count: 2 });
    s.fake.inject({ status: 503, count: 1, path: '/v2/video/list/' });
    const started = Date.now();
    const run = await s.poll();
    expect(run.error).toBeUndefined();
    expect(run.stats.retried).toBe(3);
    expect(s.fake.stats.injected).toBe(3);
    expectTotalsMatch(run.events, s.fake, 'open-1', started - 90 * DAY);
  });

  it('gives up on a revoked grant with ConnectorError revoked', async () => {
    const s = await setup({ videoCount: 5 });
    s.fake.revoke('open-1');
    const run = await s.poll();
    expect(run.error).toBeInstanceOf(ConnectorError);
    expect(run.error).toMatchObject({ kind: 'revoked' });
    expect(String(run.error)).toMatch(/invalid_grant/);
    expect(run.events).toEqual([]);
    expect(s.fake.calls.map((c) => `${c.status} ${c.code}`)).toEqual([
      '401 access_token_invalid',
      '400 invalid_grant',
    ]);
  });

  it('treats a scope the user did not grant as revoked, and a missed field scope as failed', async () => {
    const s = await setup({ videoCount: 5 }, {}, {}, [
      'user.info.basic',
      'user.info.profile',
      'user.info.stats',
    ]);
    const run = await s.poll();
    expect(run.error).toMatchObject({ kind: 'revoked' });
    expect(String(run.error)).toMatch(/scope_not_authorized/);
    expect(run.events.map((e) => e.type)).toEqual(['profile']);

    const noStats = s.fake.issueToken('open-1', [
      'user.info.basic',
      'user.info.profile',
      'video.list',
    ]);
    issuedTokens.push(noStats.accessToken, noStats.refreshToken);
    const failed = await s.poll({ credentials: credentialsOf(noStats) });
    expect(failed.error).toMatchObject({ kind: 'failed' });
    expect(String(failed.error)).toMatch(/400 scope_permission_missed/);
  });

  it('refuses a token of another TikTok account', async () => {
    const s = await setup({ videoCount: 5 });
    s.fake.addUser({ openId: 'open-2', videoCount: 5 });
    const other = s.fake.issueToken('open-2');
    issuedTokens.push(other.accessToken, other.refreshToken);
    const run = await s.poll({ credentials: credentialsOf(other) });
    expect(run.error).toMatchObject({ kind: 'failed' });
    expect(run.events).toEqual([]);
  });

  it.each([1, 2, 3, 5])(
    'resumes a pass after a crash after %i emits: no duplicate, no gap',
    async (crashAfterEmits) => {
      const s = await setup({ videoCount: 110, privateShare: 0.15, seed: crashAfterEmits });
      const started = Date.now();
      const slot = started - 1000;
      const crashed = await s.poll({ crashAfterEmits, slot });
      expect(String(crashed.error)).toMatch(/crashed/);
      expect(crashed.checkpoints).toHaveLength(crashAfterEmits);
      const infoCalls = s.fake.calls.filter((c) => c.path === '/v2/user/info/').length;
      const resumed = await s.poll({
        checkpoint: crashed.checkpoints.at(-1)!,
        slot: started + 60_000,
      });
      expect(resumed.error).toBeUndefined();
      // The pass went on with its own slot, and without reading the profile again.
      expect(s.fake.calls.filter((c) => c.path === '/v2/user/info/')).toHaveLength(infoCalls);
      const all = [...crashed.events, ...resumed.events];
      expect(all.filter((e) => e.type === 'profile')).toHaveLength(1);
      for (const e of all)
        if (e.type === 'engagement') expect(e.id.endsWith(`:${slot}`)).toBe(true);
      // Pages read once each: every event, not just every distinct id, appears once.
      expect(distinctById(all).size).toBe(all.length);
      expectTotalsMatch(all, s.fake, 'open-1', started - 90 * DAY);
      expect(resumed.checkpoints.at(-1)).toMatchObject({ pass: null });
    },
  );

  it('a second poll adds no post ids and re-reads only the recent totals; a new video is read', async () => {
    const s = await setup({ videoCount: 60, gapMs: DAY / 2 });
    const first = await s.poll({ slot: 1 });
    const firstPosts = new Set(posts(first.events));
    const pagesBefore = listCalls(s.fake).length;
    const second = await s.poll({ slot: 2, checkpoint: first.checkpoints.at(-1)! });
    expect(second.error).toBeUndefined();
    for (const id of posts(second.events)) expect(firstPosts.has(id)).toBe(true);
    const recent = expectedVideos(s.fake, 'open-1', Date.now() - 7 * DAY);
    expect(posts(second.events)).toEqual(recent.map((v) => `tiktok:${v.id}`));
    expect(listCalls(s.fake).length - pagesBefore).toBeLessThan(pagesBefore);
    expect(second.events.filter((e) => e.type === 'engagement')).toHaveLength(4 * recent.length);

    const video = s.fake.postVideo('open-1');
    s.fake.setCounts('open-1', recent[0]!.id, { like_count: 999_999 });
    const third = await s.poll({ slot: 3, checkpoint: second.checkpoints.at(-1)! });
    const thirdPosts = posts(third.events);
    expect(thirdPosts.filter((id) => !firstPosts.has(id))).toEqual([`tiktok:${video.id}`]);
    const likes = third.events.find(
      (e) =>
        e.type === 'engagement' && e.metric === 'likes' && e.postId === `tiktok:${recent[0]!.id}`,
    );
    expect(likes).toMatchObject({ value: 999_999, id: `tiktok:metric:${recent[0]!.id}:likes:3` });
    expect(third.checkpoints.at(-1)).toEqual({ pass: null, newestSeen: video.create_time * 1000 });
  });
});
