// The fake itself, checked against the documentation: its answers have the keys and types of the
// examples PLATFORMS.md part B quotes (documented-examples.json), and it behaves as part B says.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_X_CLIENT, startXFake, type XFake, type XFakeOptions } from './x.fake.ts';
import { createWebhookSender, tweetCreateEnvelope } from './x-webhooks.ts';

interface Documented {
  body?: unknown;
  status?: number;
  headers?: string[];
}
const DOCS = JSON.parse(
  readFileSync(new URL('./documented-examples.json', import.meta.url), 'utf8'),
) as Record<string, Documented>;
const doc = (name: string): Documented => DOCS[name]!;

type Shape = string | Shape[] | { [key: string]: Shape };

/** Keys and types, not values: arrays by their first element. */
function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value;
}

/**
 * The answer's shape is the documented one: the same keys with the same types, but for keys the
 * documentation marks as sometimes absent (`optional`, dotted paths) and `extra` keys it allows.
 */
function expectShape(
  actual: unknown,
  documented: unknown,
  { optional = [], extra = [] }: { optional?: string[]; extra?: string[] } = {},
  path = '',
) {
  const a = shapeOf(actual);
  const d = shapeOf(documented);
  if (typeof d === 'string' || typeof a === 'string') {
    expect(a, path || 'value').toEqual(d);
    return;
  }
  if (Array.isArray(d)) {
    expect(Array.isArray(a), path).toBe(true);
    const first = (actual as unknown[])[0];
    if (first !== undefined && d[0] !== undefined) {
      expectShape(first, (documented as unknown[])[0], { optional, extra }, `${path}[]`);
    }
    return;
  }
  const actualObject = actual as Record<string, unknown>;
  const documentedObject = documented as Record<string, unknown>;
  for (const key of Object.keys(documentedObject)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in actualObject)) {
      expect(optional, `missing ${at}`).toContain(at);
      continue;
    }
    expectShape(actualObject[key], documentedObject[key], { optional, extra }, at);
  }
  for (const key of Object.keys(actualObject)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in documentedObject)) expect(extra, `undocumented ${at}`).toContain(at);
  }
}

const fakes: XFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function start(options: XFakeOptions = {}) {
  const fake = await startXFake(options);
  fakes.push(fake);
  const user = fake.addUser({ id: '42', username: 'docs', name: 'Docs', posts: 230, seed: 'd' });
  const token = fake.issueToken(user.id);
  const get = async (path: string, accessToken = token.accessToken) => {
    const res = await fetch(`${fake.url}${path}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
  };
  return { fake, user, token, get };
}

type Body = {
  data?: { id: string; created_at?: string; [key: string]: unknown }[];
  meta?: { result_count: number; next_token?: string; previous_token?: string; oldest_id?: string };
  errors?: { type: string }[];
  [key: string]: unknown;
};

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function refresh(
  fake: XFake,
  refreshToken: string,
  authorization = basic(DEFAULT_X_CLIENT.id, DEFAULT_X_CLIENT.secret),
) {
  const res = await fetch(`${fake.url}/2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const FIELDS = 'tweet.fields=created_at,public_metrics';

describe('X fake: answers shaped as documented', () => {
  it('pages the timeline with meta as documented, newest first, next_token absent on the last page', async () => {
    const { fake, user, get } = await start();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await get(
        `/2/users/${user.id}/tweets?max_results=100&${FIELDS}${token ? `&pagination_token=${token}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('application/json');
      expectShape(page.body, doc('timelinePage').body, {
        optional: pages === 0 ? ['meta.previous_token'] : ['meta.next_token'],
      });
      if (page.body.meta?.next_token === undefined) expect(page.body.data).toHaveLength(30);
      seen.push(...page.body.data!.map((p) => p.id));
      token = page.body.meta?.next_token;
      pages += 1;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(fake.truth(user.id).posts.map((p) => p.id));
  });

  it('answers only id, text and edit_history_tweet_ids without fields, and takes post.fields too', async () => {
    const { user, get } = await start();
    const bare = await get(`/2/users/${user.id}/tweets?max_results=5`);
    for (const post of bare.body.data!) {
      expect(Object.keys(post).sort()).toEqual(['edit_history_tweet_ids', 'id', 'text']);
    }
    const renamed = await get(
      `/2/users/${user.id}/tweets?max_results=5&post.fields=public_metrics`,
    );
    expect(renamed.body.data![0]!.public_metrics).toBeDefined();
  });

  it('looks a user up with public_metrics as documented', async () => {
    const { user, get } = await start();
    const res = await get(`/2/users/${user.id}?user.fields=public_metrics`);
    expectShape(res.body, doc('userLookup').body);
    const missing = await get('/2/users/7?user.fields=public_metrics');
    expect(missing.status).toBe(200);
    expectShape(missing.body.errors![0], doc('partialError').body, {
      extra: ['value', 'parameter'],
    });
  });

  it('sends the three rate-limit headers on every answer, the reset in epoch seconds', async () => {
    const { user, get } = await start();
    for (const res of [
      await get(`/2/users/${user.id}/tweets`),
      await get(`/2/users/${user.id}`),
      await get(`/2/users/${user.id}`, 'xat-unknown'),
    ]) {
      for (const name of doc('rateLimitHeaders').headers!)
        expect(res.headers.get(name)).toMatch(/^\d+$/);
      const reset = Number(res.headers.get('x-rate-limit-reset'));
      expect(reset).toBeGreaterThan(Date.now() / 1000);
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 15 * 60);
    }
    const first = await get(`/2/users/${user.id}/tweets`);
    expect(first.headers.get('x-rate-limit-limit')).toBe('900');
    expect(first.headers.get('x-rate-limit-remaining')).toBe('898');
  });

  it('answers 429 with the documented problem once the window is spent, and counts them', async () => {
    const { fake, user, get } = await start({ limits: { 'GET /2/users/:id': 2 } });
    await get(`/2/users/${user.id}`);
    await get(`/2/users/${user.id}`);
    const refused = [await get(`/2/users/${user.id}`), await get(`/2/users/${user.id}`)];
    for (const res of refused) {
      expect(res.status).toBe(doc('tooManyRequests').status);
      expect(res.body).toEqual(doc('tooManyRequests').body);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('x-rate-limit-remaining')).toBe('0');
    }
    // Endpoints are limited separately.
    expect((await get(`/2/users/${user.id}/tweets`)).status).toBe(200);
    expect(fake.stats()).toMatchObject({ tooManyRequests: 2, beyondFirstPerWindow: 1 });
  });

  it('answers a scripted 429 whose window resets shortly, and a usage cap distinctly', async () => {
    const { fake, user, get } = await start();
    fake.inject429({ resetInMs: 2000 });
    const throttled = await get(`/2/users/${user.id}`);
    expect(throttled.status).toBe(429);
    const reset = Number(throttled.headers.get('x-rate-limit-reset')) * 1000;
    expect(reset - Date.now()).toBeGreaterThan(500);
    expect(reset - Date.now()).toBeLessThan(3100);
    fake.inject429({ usageCapped: 1 });
    const capped = await get(`/2/users/${user.id}/tweets`);
    expect(capped.status).toBe(doc('usageCapped').status);
    expect(capped.body).toEqual(doc('usageCapped').body);
  });

  it('answers the documented 401 for unknown, expired and revoked tokens', async () => {
    const { fake, user, token, get } = await start();
    const unknown = await get(`/2/users/${user.id}`, 'nope');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(doc('unauthorized').body);
    fake.expire(token.accessToken);
    expect((await get(`/2/users/${user.id}`)).body).toEqual(doc('unauthorized').body);
    const other = fake.issueToken(user.id);
    fake.revoke(user.id);
    expect((await get(`/2/users/${user.id}`, other.accessToken)).status).toBe(401);
    const refused = await refresh(fake, other.refreshToken!);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('expires access tokens after 7200 s on its clock', async () => {
    let clock = Date.parse('2026-09-01T00:00:00Z');
    const { user, token, get } = await start({ now: () => clock });
    expect(token.expiresAt).toBe(clock + 7200_000);
    clock += 7199_000;
    expect((await get(`/2/users/${user.id}`)).status).toBe(200);
    clock += 1000;
    expect((await get(`/2/users/${user.id}`)).status).toBe(401);
  });
});

describe('X fake: OAuth 2.0 refresh', () => {
  it('rotates single-use refresh tokens; reusing a rotated one ends the chain', async () => {
    const { fake, user, token, get } = await start();
    const first = await refresh(fake, token.refreshToken!);
    expect(first.status).toBe(200);
    expectShape(first.body, doc('tokenResponse').body);
    expect(first.body.expires_in).toBe(7200);
    expect(first.body.refresh_token).not.toBe(token.refreshToken);
    const newAccess = String(first.body.access_token);
    expect((await get(`/2/users/${user.id}`, newAccess)).status).toBe(200);

    const reused = await refresh(fake, token.refreshToken!);
    expect(reused.status).toBe(doc('oauthError').status);
    expectShape(reused.body, doc('oauthError').body);
    expect(reused.body.error).toBe('invalid_grant');
    // The whole chain is gone: the newest pair too.
    expect((await get(`/2/users/${user.id}`, newAccess)).status).toBe(401);
    expect((await refresh(fake, String(first.body.refresh_token))).body.error).toBe(
      'invalid_grant',
    );
  });

  it('asks a confidential client for Basic auth, and issues no refresh token without offline.access', async () => {
    const { fake, user } = await start();
    const fake2 = fake.issueToken(user.id);
    const missing = await fetch(`${fake.url}/2/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: fake2.refreshToken!,
      }),
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: 'unauthorized_client' });
    const wrong = await refresh(fake, fake2.refreshToken!, basic(DEFAULT_X_CLIENT.id, 'wrong'));
    expect(wrong.body.error).toBe('unauthorized_client');
    expect(
      fake.issueToken(user.id, { scopes: ['tweet.read', 'users.read'] }).refreshToken,
    ).toBeUndefined();
  });
});

describe('X fake: the timeline as documented', () => {
  it('returns only the 3,200 most recent posts, and nothing beyond', async () => {
    const { fake, get } = await start();
    const big = fake.addUser({ id: '77', posts: 3300, spacingMs: 60_000, seed: 'big' });
    const truth = fake.truth(big.id).posts;
    const last = truth[3199]!;
    const tail = await get(`/2/users/77/tweets?max_results=100&until_id=${truth[3150]!.id}`);
    expect(tail.body.data!.at(-1)!.id).toBe(last.id);
    expect(tail.body.meta!.next_token).toBeUndefined();
    const beyond = await get(`/2/users/77/tweets?until_id=${last.id}`);
    expect(beyond.status).toBe(200);
    expect(beyond.body).toEqual({ meta: { result_count: 0 } });
  });

  it('filters by since_id, until_id, start_time and end_time', async () => {
    const { fake, user, get } = await start();
    const posts = fake.truth(user.id).posts;
    const between = await get(
      `/2/users/${user.id}/tweets?since_id=${posts[20]!.id}&until_id=${posts[9]!.id}`,
    );
    expect(between.body.data!.map((p) => p.id)).toEqual(posts.slice(10, 20).map((p) => p.id));
    const from = new Date(posts[30]!.createdAt).toISOString();
    const end = new Date(posts[24]!.createdAt).toISOString();
    const timed = await get(`/2/users/${user.id}/tweets?start_time=${from}&end_time=${end}`);
    expect(timed.body.data!.map((p) => p.id)).toEqual(posts.slice(25, 31).map((p) => p.id));
  });

  it('refuses out-of-range parameters as an invalid-request problem', async () => {
    const { user, get } = await start();
    for (const query of [
      'max_results=4',
      'max_results=101',
      'since_id=abc',
      'start_time=yesterday',
      'colour=red',
      'tweet.fields=nope',
    ]) {
      const res = await get(`/2/users/${user.id}/tweets?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.type).toBe('https://api.x.com/2/problems/invalid-request');
    }
  });

  it('refuses a page token after it expired, or with another query', async () => {
    let clock = Date.now();
    const { user, get } = await start({ now: () => clock, pageTokenTtlMs: 60_000 });
    const first = await get(`/2/users/${user.id}/tweets?max_results=10`);
    const token = first.body.meta!.next_token!;
    expect(
      (await get(`/2/users/${user.id}/tweets?max_results=20&pagination_token=${token}`)).status,
    ).toBe(400);
    clock += 61_000;
    expect(
      (await get(`/2/users/${user.id}/tweets?max_results=10&pagination_token=${token}`)).status,
    ).toBe(400);
  });

  it('gives private metrics to the author for posts under 30 days only, an error to others', async () => {
    const { fake, get } = await start();
    const now = Date.now();
    fake.addUser({ id: '88', posts: 20, newestAt: now - 40 * 86_400_000, seed: 'old' });
    const author = fake.issueToken('88');
    const old = await get(
      '/2/users/88/tweets?max_results=10&tweet.fields=non_public_metrics',
      author.accessToken,
    );
    expect(old.body.meta!.result_count).toBe(0);
    expect(old.body.meta!.next_token).toBeDefined();
    expect(old.body.data).toBeUndefined();

    const recent = fake.addPost('88', { text: 'fresh' });
    const page = await get(
      '/2/users/88/tweets?max_results=10&tweet.fields=non_public_metrics,organic_metrics',
      author.accessToken,
    );
    expect(page.body.data!.map((p) => p.id)).toEqual([recent.id]);
    expect(page.body.data![0]).toHaveProperty('non_public_metrics.url_link_clicks');
    expect(page.body.data![0]).toHaveProperty('organic_metrics.like_count');

    const stranger = await get('/2/users/88/tweets?max_results=5&tweet.fields=non_public_metrics');
    expect(stranger.status).toBe(200);
    expect(stranger.body.data![0]).not.toHaveProperty('non_public_metrics');
    expect(stranger.body.errors![0]!.type).toBe(
      'https://api.x.com/2/problems/not-authorized-for-field',
    );
  });

  it('scripts 5xx answers and logs every call', async () => {
    const { fake, user, get } = await start();
    fake.inject({ status: 503, count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(`/2/users/${user.id}`)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(fake.calls.map((c) => [c.method, c.path, c.status])).toEqual([
      ['GET', '/2/users/42', 503],
      ['GET', '/2/users/42', 503],
      ['GET', '/2/users/42', 200],
    ]);
  });
});

describe('X fake: seeded data', () => {
  it('generates the same users from the same seed, thousands of them lazily', async () => {
    const a = await startXFake({ now: () => 1_800_000_000_000 });
    const b = await startXFake({ now: () => 1_800_000_000_000 });
    fakes.push(a, b);
    const began = performance.now();
    const ids = a.addUsers(50_000, 'bench', { posts: 200 });
    b.addUsers(50_000, 'bench', { posts: 200 });
    expect(performance.now() - began).toBeLessThan(500);
    expect(ids).toHaveLength(50_000);
    const one = ids[31_337]!;
    expect(a.truth(one)).toEqual(b.truth(one));
    expect(a.truth(one).posts).toHaveLength(200);
    expect(a.truth(ids[0]!)).not.toEqual(a.truth(ids[1]!));
    const ordered = a.truth(one).posts.map((p) => p.createdAt);
    expect(ordered).toEqual([...ordered].sort((x, y) => y - x));
  });
});

describe('X fake: Account Activity webhooks', () => {
  it('passes a CRC, signs deliveries with the consumer secret and tries again after a failure', async () => {
    const secret = 'consumer-secret';
    const received: { for_user_id: string; tweet_create_events: { created_at: string }[] }[] = [];
    let posts = 0;
    const receiver = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      const crc = url.searchParams.get('crc_token');
      if (req.method === 'GET' && crc) {
        const token = createHmac('sha256', secret).update(crc).digest('base64');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ response_token: `sha256=${token}` }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const expected = Buffer.from(
          `sha256=${createHmac('sha256', secret).update(raw).digest('base64')}`,
        );
        const given = Buffer.from(String(req.headers['x-twitter-webhooks-signature']));
        const valid = given.length === expected.length && timingSafeEqual(given, expected);
        posts += 1;
        if (valid && posts > 1)
          received.push(JSON.parse(raw.toString('utf8')) as (typeof received)[number]);
        res.writeHead(valid ? (posts > 1 ? 200 : 503) : 401);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/x`;
      const { fake, user } = await start();
      const sender = createWebhookSender({ consumerSecret: secret, attemptDelaysMs: [0, 10, 10] });
      expect(await sender.checkCrc(url)).toBe(true);
      expect(await createWebhookSender({ consumerSecret: 'other' }).checkCrc(url)).toBe(false);
      const post = fake.truth(user.id).posts[0]!;
      const delivery = await sender.deliver(url, tweetCreateEnvelope(user.id, post, user));
      expect(delivery).toEqual({ url, attempts: 2, status: 200, delivered: true });
      expect(received).toHaveLength(1);
      expect(received[0]!.for_user_id).toBe(user.id);
      expect(received[0]!.tweet_create_events[0]!.created_at).toMatch(
        /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \+0000 \d{4}$/,
      );
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
