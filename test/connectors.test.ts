// Connected accounts end to end, on the embedded product: accounts connected through the API poll
// local fakes of the platforms (which behave as their documentation says), and what the API then
// answers is recounted against the fakes' own data. Tokens are sealed at rest, never answered and
// never logged; a revoked grant marks its connection and stops nothing else; signed webhooks land.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig, throwawayEnv } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { xSignature } from '../ingest/webhooks/signature.ts';
import { startLoupe, type RunningLoupe } from '../scripts/runtime.ts';
import { postGraphQL } from './support/graphql-http.ts';
import { waitUntil } from './support/wait-for.ts';
import { DEFAULT_X_CLIENT, startXFake, type XFake } from './fakes/x/x.fake.ts';
import { startTikTokFake, type TikTokFake } from './fakes/tiktok/tiktok.fake.ts';
import { startMetaFake, type MetaFake } from './fakes/meta/meta.fake.ts';

const KEY = `loupe_connectors_${randomBytes(8).toString('hex')}`;
const X_USER = '1500000000000000001';
const TT_USER = 'tt-open-northwind';
const CONSUMER_SECRET = 'x-consumer-secret-for-webhooks';
const DAY = 86_400_000;

let x: XFake;
let tiktok: TikTokFake;
let meta: MetaFake;
let pageId: string;
let igUserId: string;
let loupe: RunningLoupe;
let gateway: string;
const logLines: string[] = [];
const issued: string[] = [];

const gql = <T>(query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL<T>(gateway, KEY, query, variables);

interface ConnectionAnswer {
  account: { id: string };
  platform: string;
  state: string;
  polls: number;
  lastError: string | null;
  nextPollAt: string;
  tokenKeyId: string;
  headroom: { endpoint: string; remaining: number | null; limit: number | null }[];
}

const CONNECTION_FIELDS = `account { id } platform state polls lastError nextPollAt tokenKeyId
  headroom { endpoint remaining limit }`;

async function connections(): Promise<Map<string, ConnectionAnswer>> {
  const reply = await gql<{ connections: ConnectionAnswer[] }>(
    `{ connections { ${CONNECTION_FIELDS} } }`,
  );
  expect(reply.errors).toBeUndefined();
  return new Map(reply.data!.connections.map((c) => [c.account.id, c]));
}

async function connect(input: Record<string, unknown>): Promise<ConnectionAnswer> {
  const reply = await gql<{ connectAccount: ConnectionAnswer }>(
    `mutation($input: ConnectAccountInput!) { connectAccount(input: $input) { ${CONNECTION_FIELDS} } }`,
    { input },
  );
  expect(reply.errors).toBeUndefined();
  return reply.data!.connectAccount;
}

interface PostsPage {
  account: {
    profile: { followers: number; postCount: number } | null;
    posts: {
      totalCount: number;
      endCursor: string | null;
      nodes: { id: string; lifetime: Record<string, number> }[];
    };
  };
}

/** Every post of the account through the API, page by page. */
async function postsOf(accountId: string) {
  const nodes: PostsPage['account']['posts']['nodes'] = [];
  let after: string | null = null;
  for (;;) {
    const reply: Awaited<ReturnType<typeof gql<PostsPage>>> = await gql<PostsPage>(
      `query($id: ID!, $after: String) { account(id: $id) { profile { followers postCount }
         posts(first: 100, after: $after) { totalCount endCursor
           nodes { id lifetime { likes comments shares saves quotes views reach impressions bookmarks } } } } }`,
      { id: accountId, after },
    );
    expect(reply.errors).toBeUndefined();
    const { profile, posts } = reply.data!.account;
    nodes.push(...posts.nodes);
    after = posts.endCursor;
    if (after === null) return { profile, totalCount: posts.totalCount, nodes };
  }
}

beforeAll(async () => {
  x = await startXFake();
  tiktok = await startTikTokFake();
  meta = await startMetaFake();
  const now = Date.now();
  pageId = meta.addPage({
    username: 'northwind.fb',
    followers: 12_000,
    posts: 60,
    spanDays: 60,
    hiddenEvery: 9,
  });
  igUserId = meta.addInstagramUser({
    username: 'northwind.ig',
    followers: 8_000,
    posts: 40,
    spanDays: 50,
  });
  x.addUser({
    id: X_USER,
    username: 'northwind',
    posts: 130,
    newestAt: now - 3_600_000,
    spacingMs: DAY / 2,
    followers: 5400,
  });
  tiktok.addUser({
    openId: TT_USER,
    username: 'northwind.tt',
    videoCount: 45,
    newestAt: now - 7_200_000,
    gapMs: DAY,
  });
  const dir = await mkdtemp(join(tmpdir(), 'loupe-connectors-'));
  const env = {
    ...throwawayEnv({ dataDir: dir, apiKey: KEY, logLevel: 'debug' }),
    LOUPE_TOKEN_KEYS: `e2e:${randomBytes(32).toString('base64')}`,
    LOUPE_POLL_REALTIME_SECONDS: '2',
    LOUPE_X_API_URL: x.url,
    LOUPE_X_CLIENT_ID: DEFAULT_X_CLIENT.id,
    LOUPE_X_CLIENT_SECRET: DEFAULT_X_CLIENT.secret,
    LOUPE_X_CONSUMER_SECRET: CONSUMER_SECRET,
    LOUPE_TIKTOK_API_URL: tiktok.url,
    LOUPE_TIKTOK_CLIENT_KEY: tiktok.clientKey,
    LOUPE_TIKTOK_CLIENT_SECRET: tiktok.clientSecret,
    LOUPE_FACEBOOK_GRAPH_URL: meta.url,
    LOUPE_INSTAGRAM_GRAPH_URL: meta.url,
    LOUPE_META_APP_ID: meta.appId,
    LOUPE_META_APP_SECRET: meta.appSecret,
  };
  // Every line the product logs, at debug level, to look for tokens in afterwards.
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  loupe = await startLoupe(loadConfig(env), { logger: createLogger('debug', 'loupe', capture) });
  gateway = loupe.urls.gateway!;
}, 120_000);

afterAll(async () => {
  await loupe?.close();
  await x?.close();
  await tiktok?.close();
  await meta?.close();
});

describe('connected accounts', () => {
  test('connecting answers the connection without its tokens, sealed under the configured key', async () => {
    const xToken = x.issueToken(X_USER);
    const ttToken = tiktok.issueToken(TT_USER);
    issued.push(
      xToken.accessToken,
      xToken.refreshToken!,
      ttToken.accessToken,
      ttToken.refreshToken,
    );
    const connected = await connect({
      accountId: 'x-northwind',
      platform: 'X',
      platformAccountId: X_USER,
      accessToken: xToken.accessToken,
      refreshToken: xToken.refreshToken,
      expiresAt: new Date(xToken.expiresAt).toISOString(),
      tier: 'REALTIME',
      handle: 'northwind',
    });
    expect(connected).toMatchObject({
      account: { id: 'x-northwind' },
      platform: 'X',
      state: 'HEALTHY',
      tokenKeyId: 'e2e',
    });
    expect(JSON.stringify(connected)).not.toContain(xToken.accessToken);
    await connect({
      accountId: 'tt-northwind',
      platform: 'TIKTOK',
      platformAccountId: TT_USER,
      accessToken: ttToken.accessToken,
      refreshToken: ttToken.refreshToken,
      expiresAt: new Date(ttToken.expiresAt).toISOString(),
      refreshExpiresAt: new Date(ttToken.refreshExpiresAt).toISOString(),
      tier: 'REALTIME',
    });
    for (const [accountId, platform, id] of [
      ['fb-northwind', 'FACEBOOK', pageId],
      ['ig-northwind', 'INSTAGRAM', igUserId],
    ] as const) {
      const token = meta.issueToken(id);
      issued.push(token.accessToken);
      await connect({
        accountId,
        platform,
        platformAccountId: id,
        accessToken: token.accessToken,
        expiresAt: new Date(token.expiresAt).toISOString(),
        tier: 'REALTIME',
      });
    }
  });

  test('bad input is refused with its reason and stores nothing', async () => {
    const expired = await gql(
      `mutation { connectAccount(input: { accountId: "x-late", platform: X, platformAccountId: "1",
         accessToken: "t0k3n-x", expiresAt: "2020-01-01T00:00:00Z" }) { state } }`,
    );
    expect(expired.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(expired.errors?.[0]?.message).toMatch(
      /expiresAt has passed and there is no refresh token/,
    );
    const wrongPlatform = await gql(
      `mutation { connectAccount(input: { accountId: "x-northwind", platform: TIKTOK, platformAccountId: "1",
         accessToken: "t0k3n-y" }) { state } }`,
    );
    expect(wrongPlatform.errors?.[0]?.message).toMatch(/tracked as a x account, not tiktok/);
    expect([...(await connections()).keys()].sort()).toEqual([
      'fb-northwind',
      'ig-northwind',
      'tt-northwind',
      'x-northwind',
    ]);
  });

  test('the polls bring every post and its lifetime counters, as the platforms hold them', async () => {
    await waitUntil(
      'every connection polled',
      async () => [...(await connections()).values()].every((c) => c.polls >= 1),
      60_000,
    );
    await loupe.caughtUp(60_000);
    const views = await connections();
    for (const c of views.values()) expect([c.state, c.lastError]).toEqual(['HEALTHY', null]);
    // X's headers told the limiter what is left on each endpoint.
    expect(
      views
        .get('x-northwind')!
        .headroom.map((h) => h.endpoint)
        .sort(),
    ).toEqual(['GET /2/users/:id', 'GET /2/users/:id/tweets']);
    expect(
      views.get('x-northwind')!.headroom.every((h) => h.limit === 900 && h.remaining! < 900),
    ).toBe(true);

    const xTruth = x.truth(X_USER);
    const xAnswer = await postsOf('x-northwind');
    expect(xAnswer.totalCount).toBe(xTruth.posts.length);
    expect(xAnswer.profile).toMatchObject({ followers: xTruth.followers });
    const xById = new Map(xAnswer.nodes.map((p) => [p.id, p.lifetime]));
    for (const post of xTruth.posts) {
      expect(xById.get(`x:${post.id}`)).toMatchObject({
        likes: post.metrics.like_count,
        comments: post.metrics.reply_count,
        shares: post.metrics.retweet_count,
        quotes: post.metrics.quote_count,
        impressions: post.metrics.impression_count,
      });
    }

    const ttTruth = tiktok.truth(TT_USER);
    const ttAnswer = await postsOf('tt-northwind');
    expect(ttAnswer.totalCount).toBe(ttTruth.videos.length);
    expect(ttAnswer.profile).toMatchObject({ followers: ttTruth.user.follower_count });
    const ttById = new Map(ttAnswer.nodes.map((p) => [p.id, p.lifetime]));
    for (const video of ttTruth.videos) {
      expect(ttById.get(`tiktok:${video.id}`)).toMatchObject({
        likes: video.like_count,
        comments: video.comment_count,
        shares: video.share_count,
        views: video.view_count,
      });
    }
  });

  test('Facebook and Instagram bring every visible post with its counters', async () => {
    for (const [accountId, nativeId, platform, counters] of [
      ['fb-northwind', pageId, 'facebook', ['likes', 'comments', 'shares', 'views', 'reach']],
      [
        'ig-northwind',
        igUserId,
        'instagram',
        ['likes', 'comments', 'shares', 'saves', 'views', 'reach'],
      ],
    ] as const) {
      const truth = meta.truth(nativeId);
      const answer = await postsOf(accountId);
      expect(answer.totalCount).toBe(truth.posts.length);
      expect(answer.profile).toMatchObject({ followers: truth.followers });
      const byId = new Map(answer.nodes.map((p) => [p.id, p.lifetime]));
      for (const post of truth.posts) {
        const lifetime = byId.get(`${platform}:${post.id}`);
        expect(lifetime, `${platform} post ${post.id}`).toBeDefined();
        for (const counter of counters) expect(lifetime![counter]).toBe(post.counters[counter]);
      }
    }
  });

  test('later polls add new posts and follow changed totals, counting nothing twice', async () => {
    const before = (await connections()).get('tt-northwind')!.polls;
    const newest = tiktok.truth(TT_USER).videos[0]!;
    tiktok.setCounts(TT_USER, newest.id, { like_count: newest.like_count + 250 });
    const fresh = x.addPost(X_USER, { text: 'A new post #launch' });
    await waitUntil(
      'two more polls of each',
      async () => [...(await connections()).values()].every((c) => c.polls >= before + 2),
      60_000,
    );
    await loupe.caughtUp(60_000);
    const xAnswer = await postsOf('x-northwind');
    expect(xAnswer.totalCount).toBe(x.truth(X_USER).posts.length);
    expect(xAnswer.nodes.some((p) => p.id === `x:${fresh.id}`)).toBe(true);
    const video = (await postsOf('tt-northwind')).nodes.find(
      (p) => p.id === `tiktok:${newest.id}`,
    )!;
    // The latest total, not the sum of the totals seen.
    expect(video.lifetime.likes).toBe(newest.like_count + 250);
  });

  test('a signed X webhook lands as a comment; a forged one changes nothing', async () => {
    const post = x.truth(X_USER).posts[0]!;
    const delivery = JSON.stringify({
      for_user_id: X_USER,
      tweet_create_events: [
        {
          id_str: '1900000000000000099',
          created_at: new Date().toUTCString().replace('GMT', '+0000'),
          text: '@northwind this is wonderful, thank you',
          in_reply_to_status_id_str: post.id,
          in_reply_to_user_id_str: X_USER,
          user: { id_str: '777', screen_name: 'fan' },
        },
      ],
    });
    const send = (signature: string) =>
      fetch(`${loupe.urls.ingest}/webhooks/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signature },
        body: delivery,
      });
    expect((await send(xSignature('not-the-secret', delivery))).status).toBe(403);
    const accepted = await send(xSignature(CONSUMER_SECRET, delivery));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ published: 1 });
    await loupe.caughtUp(30_000);
    const reply = await gql<{ post: { comments: { text: string; authorHandle: string }[] } }>(
      `query($id: ID!) { post(id: $id) { comments { text authorHandle } } }`,
      { id: `x:${post.id}` },
    );
    expect(reply.errors).toBeUndefined();
    expect(reply.data!.post.comments).toEqual([
      { text: '@northwind this is wonderful, thank you', authorHandle: 'fan' },
    ]);
  });

  test('a revoked grant marks that connection only; the other keeps polling', async () => {
    x.revoke(X_USER);
    const poll = await gql<{ pollNow: { state: string } }>(
      'mutation { pollNow(accountId: "x-northwind") { state } }',
    );
    expect(poll.errors).toBeUndefined();
    await waitUntil(
      'the X connection needs re-authorisation',
      async () => (await connections()).get('x-northwind')!.state === 'NEEDS_REAUTHORISATION',
      30_000,
    );
    const views = await connections();
    expect(views.get('x-northwind')!.lastError).toMatch(/revoked|refused|401|invalid_grant/i);
    const ttPolls = views.get('tt-northwind')!.polls;
    await waitUntil(
      'TikTok polled on',
      async () => (await connections()).get('tt-northwind')!.polls > ttPolls,
      30_000,
    );
    expect((await connections()).get('tt-northwind')!.state).toBe('HEALTHY');
    const again = await gql('mutation { pollNow(accountId: "x-northwind") { state } }');
    expect(again.errors?.[0]?.message).toMatch(/needs re-authorisation: connect it again/);
  });

  test('no token ever appears in a log line', () => {
    if (process.env.DEBUG_LOGS) console.log(logLines.join(''));
    expect(logLines.length).toBeGreaterThan(10);
    for (const token of issued) {
      expect(logLines.filter((line) => line.includes(token))).toEqual([]);
    }
  });
});
