// The fake checked against the documentation: its answers have the keys and types of the JSON
// examples PLATFORMS.md part C quotes, and its rules (scopes, cursor, limits, tokens) hold.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import documented from './documented-examples.json' with { type: 'json' };
import { startTikTokFake, type TikTokFake, type TikTokFakeOptions } from './tiktok.fake.ts';
import { VIDEO_FIELDS } from './tiktok-routes.ts';

type Shape = string | { [key: string]: Shape } | Shape[];

/** Keys and types, not values: what a client's parser depends on. */
function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([k, v]) => [k, shapeOf(v)]));
  }
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const USER_FIELDS = Object.keys(documented.userInfoResponse.data.user).join(',');

let fake: TikTokFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: TikTokFakeOptions = {}): Promise<TikTokFake> {
  fake = await startTikTokFake(options);
  return fake;
}

async function call(
  f: TikTokFake,
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(f.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function token(f: TikTokFake, form: Record<string, string>) {
  const res = await fetch(`${f.url}/v2/oauth/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const listPath = `/v2/video/list/?fields=${VIDEO_FIELDS.join(',')}`;

interface ListData {
  videos: { id: string; create_time: number }[];
  cursor: number;
  has_more: boolean;
}

describe('the TikTok fake', () => {
  it('answers user info in the documented shape, and fails the whole call for a missing scope', async () => {
    const f = await start();
    f.addUser({ openId: 'u1' });
    const all = f.issueToken('u1');
    const ok = await call(f, all.accessToken, `/v2/user/info/?fields=${USER_FIELDS}`);
    expect(ok.status).toBe(200);
    expect(shapeOf(ok.json)).toEqual(shapeOf(documented.userInfoResponse));
    expect(ok.json.error).toMatchObject({ code: 'ok', message: '' });
    expect(shapeOf(ok.json.error)).toEqual(shapeOf(documented.successError));

    const basic = f.issueToken('u1', ['user.info.basic', 'video.list']);
    const missed = await call(f, basic.accessToken, '/v2/user/info/?fields=open_id,follower_count');
    expect(missed.status).toBe(400);
    expect(missed.json.error).toMatchObject({ code: 'scope_permission_missed' });
    expect(missed.json.data).toEqual({});
    const without = await call(f, basic.accessToken, '/v2/user/info/');
    expect(without.status).toBe(400);
    expect(without.json.error).toMatchObject({ code: 'invalid_params' });
  });

  it('lists videos newest first in the documented shape, ms cursor, seconds create_time', async () => {
    const f = await start();
    f.addUser({ openId: 'u1', videoCount: 25 });
    const { accessToken } = f.issueToken('u1');
    const first = await call(f, accessToken, listPath, {});
    expect(first.status).toBe(200);
    expect(shapeOf(first.json)).toEqual(shapeOf(documented.videoListResponse));
    const data = first.json.data as ListData;
    expect(data.videos).toHaveLength(10); // the documented default max_count
    const times = data.videos.map((v) => v.create_time);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(times[0]! * 1000).toBeLessThanOrEqual(Date.now());
    expect(times[0]!).toBeGreaterThan(Date.now() / 1000 - 86_400);
    expect(data.cursor).toBe(times.at(-1)! * 1000);
    expect(data.has_more).toBe(true);

    const over = await call(f, accessToken, listPath, { max_count: 21 });
    expect(over.status).toBe(400);
    expect(over.json.error).toMatchObject({ code: 'invalid_params' });
    const noScope = f.issueToken('u1', ['user.info.basic']);
    const refused = await call(f, noScope.accessToken, listPath, {});
    expect(refused.status).toBe(401);
    expect(refused.json.error).toMatchObject({ code: 'scope_not_authorized' });
  });

  it('pages through every public video exactly once, some pages shorter than asked', async () => {
    const f = await start();
    f.addUser({ openId: 'u1', videoCount: 95, privateShare: 0.3, seed: 7 });
    const { accessToken } = f.issueToken('u1');
    const seen: string[] = [];
    let cursor: number | undefined;
    let short = 0;
    for (let page = 0; page < 50; page++) {
      const res = await call(f, accessToken, listPath, { max_count: 20, cursor });
      const data = res.json.data as ListData;
      seen.push(...data.videos.map((v) => v.id));
      if (data.has_more && data.videos.length < 20) short += 1;
      if (!data.has_more) break;
      cursor = data.cursor;
    }
    const truth = f.truth('u1').videos.map((v) => v.id);
    expect(truth.length).toBeLessThan(95);
    expect(seen).toEqual(truth);
    expect(short).toBeGreaterThan(0);
  });

  it('answers video query for at most 20 of the caller’s own ids', async () => {
    const f = await start();
    f.addUser({ openId: 'u1', videoCount: 30 });
    f.addUser({ openId: 'u2', videoCount: 3 });
    const { accessToken } = f.issueToken('u1');
    const mine = f
      .truth('u1')
      .videos.slice(0, 2)
      .map((v) => v.id);
    const theirs = f.truth('u2').videos[0]!.id;
    const path = '/v2/video/query/?fields=id,like_count';
    const res = await call(f, accessToken, path, { filters: { video_ids: [...mine, theirs] } });
    expect(res.status).toBe(200);
    expect((res.json.data as ListData).videos.map((v) => v.id)).toEqual(mine);
    const ids = f
      .truth('u1')
      .videos.slice(0, 21)
      .map((v) => v.id);
    const tooMany = await call(f, accessToken, path, { filters: { video_ids: ids } });
    expect(tooMany.status).toBe(400);
  });

  it('refuses an expired token in the documented error shape', async () => {
    let clock = Date.UTC(2026, 5, 1);
    const f = await start({ now: () => clock });
    f.addUser({ openId: 'u1' });
    const a = f.issueToken('u1');
    const b = f.issueToken('u1');
    f.expire(a.accessToken);
    const expired = await call(f, a.accessToken, '/v2/user/info/?fields=open_id');
    expect(expired.status).toBe(401);
    expect(shapeOf(expired.json.error)).toEqual(shapeOf(documented.accessTokenInvalid));
    expect(expired.json.error).toMatchObject({ code: 'access_token_invalid' });
    expect((expired.json.error as { log_id: string }).log_id).toMatch(
      /^20260601\d{6}[0-9A-F]{20}$/,
    );
    expect((await call(f, b.accessToken, '/v2/user/info/?fields=open_id')).status).toBe(200);
    clock += 86_400_000; // 24 hours later
    expect((await call(f, b.accessToken, '/v2/user/info/?fields=open_id')).status).toBe(401);
  });

  it('refreshes in the documented token shape; revoked grants answer invalid_grant', async () => {
    const clock = Date.UTC(2026, 5, 1);
    const f = await start({ now: () => clock });
    f.addUser({ openId: 'u1' });
    const issued = f.issueToken('u1');
    expect(issued.expiresAt - clock).toBe(86_400_000);
    expect(issued.refreshExpiresAt - clock).toBe(31_536_000_000);
    const form = {
      client_key: f.clientKey,
      client_secret: f.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: issued.refreshToken,
    };
    const fresh = await token(f, form);
    expect(fresh.status).toBe(200);
    expect(shapeOf(fresh.json)).toEqual(shapeOf(documented.tokenResponse));
    expect(fresh.json).toMatchObject({ expires_in: 86_400, refresh_expires_in: 31_536_000 });
    expect(fresh.json.access_token).toMatch(/^act\./);
    expect(fresh.json.access_token).not.toBe(issued.accessToken);

    const missing = await token(f, { ...form, client_secret: '' });
    expect(missing.status).toBe(400);
    expect(shapeOf(missing.json)).toEqual(shapeOf(documented.oauthError));
    expect(missing.json.error).toBe('invalid_request');
    expect((await token(f, { ...form, client_secret: 'wrong' })).json.error).toBe('invalid_client');

    f.revoke('u1');
    const revoked = await token(f, form);
    expect(revoked.json.error).toBe('invalid_grant');
    expect(JSON.stringify(revoked.json)).not.toContain(issued.refreshToken);
    const refused = await call(f, String(fresh.json.access_token), '/v2/user/info/?fields=open_id');
    expect(refused.status).toBe(401);
  });

  it('exchanges an authorization code once', async () => {
    const f = await start();
    f.addUser({ openId: 'u1' });
    const code = f.authorizationCode('u1', ['user.info.basic']);
    const form = {
      client_key: f.clientKey,
      client_secret: f.clientSecret,
      grant_type: 'authorization_code',
      code,
    };
    const first = await token(f, form);
    expect(first.json).toMatchObject({ open_id: 'u1', scope: 'user.info.basic' });
    expect((await token(f, form)).json.error).toBe('invalid_grant');
  });

  it('limits each endpoint on a sliding window, answers 429 and counts them', async () => {
    const f = await start({ rateLimit: { calls: 3, windowMs: 300 } });
    f.addUser({ openId: 'u1' });
    const { accessToken } = f.issueToken('u1');
    const info = '/v2/user/info/?fields=open_id';
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(f, accessToken, info)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const over = await call(f, accessToken, info);
    expect(over.json.error).toMatchObject({ code: 'rate_limit_exceeded' });
    // Another endpoint has its own window.
    expect((await call(f, accessToken, listPath, {})).status).toBe(200);
    expect(f.stats.throttled).toBe(2);
    expect(Object.values(f.stats.throttledPerWindow).reduce((a, b) => a + b, 0)).toBe(2);
    expect(f.stats.byEndpoint['GET /v2/user/info/']).toEqual({ requests: 5, throttled: 2 });
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect((await call(f, accessToken, info)).status).toBe(200);
    expect(f.calls.filter((c) => c.status === 429)).toHaveLength(2);
  });

  it('answers injected faults in the envelope, then recovers', async () => {
    const f = await start();
    f.addUser({ openId: 'u1' });
    const { accessToken } = f.issueToken('u1');
    f.inject({ status: 500, count: 2 });
    f.inject429(1, '/v2/video/list/');
    const info = '/v2/user/info/?fields=open_id';
    const first = await call(f, accessToken, info);
    expect(first.status).toBe(500);
    expect(first.json.error).toMatchObject({ code: 'internal_error' });
    expect((await call(f, accessToken, info)).status).toBe(500);
    expect((await call(f, accessToken, info)).status).toBe(200);
    expect((await call(f, accessToken, listPath, {})).status).toBe(429);
    expect((await call(f, accessToken, listPath, {})).status).toBe(200);
    expect(f.stats.injected).toBe(3);
    expect(f.stats.throttled).toBe(0);
  });

  it('generates the same data from the same seed, and thousands of accounts cheaply', async () => {
    const f = await start();
    const started = performance.now();
    const ids = f.addUsers({ count: 10_000, videoCount: 40, seed: 3 });
    expect(ids).toHaveLength(10_000);
    expect(performance.now() - started).toBeLessThan(500);
    const other = await startTikTokFake();
    try {
      const otherIds = other.addUsers({ count: 10_000, videoCount: 40, seed: 3 });
      const a = f.truth(ids[9_999]!).videos;
      const b = other.truth(otherIds[9_999]!).videos;
      expect(a).toHaveLength(40);
      expect(a.map((v) => [v.id, v.like_count])).toEqual(b.map((v) => [v.id, v.like_count]));
      expect(f.truth(ids[1]!).videos[0]!.id).not.toBe(a[0]!.id);
      expect(() => f.issueToken('pop0-10000')).toThrow(/no TikTok user/);
    } finally {
      await other.close();
    }
  });

  it('delivers a signed webhook whose content is a JSON string', async () => {
    const f = await start();
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    let refuse = 1;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(refuse-- > 0 ? 503 : 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const result = await f.deliverWebhook({
        url: `http://127.0.0.1:${port}/hook`,
        event: 'authorization.removed',
        openId: 'u1',
        content: { reason: 1 },
        backoffMs: 5,
      });
      expect(result).toMatchObject({ status: 200, attempts: 2 });
      const last = received.at(-1)!;
      const body = JSON.parse(last.body) as Record<string, unknown>;
      expect(shapeOf(body)).toEqual(shapeOf(documented.webhookBody));
      expect(JSON.parse(String(body.content))).toEqual({ reason: 1 });
      const header = String(last.headers['tiktok-signature']);
      expect(header).toMatch(/^t=\d+,s=[0-9a-f]{64}$/);
      const [t, s] = header.split(',').map((part) => part.split('=')[1]);
      const expected = createHmac('sha256', f.clientSecret)
        .update(`${t}.${last.body}`)
        .digest('hex');
      expect(s).toBe(expected);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
