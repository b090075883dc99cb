// The webhook door over a real node:http server and the in-process bus: signatures (valid,
// forged, missing, altered, replayed, stale), the platforms' GET checks, and the rule that a 2xx
// means the events are on the bus.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Bus, BusMessage } from '../../lib/bus/bus.port.ts';
import { createMemoryBus } from '../../lib/bus/memory.bus.ts';
import { createLogger } from '../../lib/logger.ts';
import { parseEnvelope, type EventEnvelope } from '../../schema/event-envelope.ts';
import { commentIdOf, eventIdOf, postIdOf, type SocialPlatform } from '../connectors/ids.ts';
import { EVENTS_TOPIC } from '../pipeline/topics.ts';
import { metaSignature, tiktokSignature, xSignature } from './signature.ts';
import { createWebhookHandler, type Connection, type WebhookDeps } from './webhooks.handler.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const T = Math.floor(NOW / 1000) - 60;
const SECRETS = {
  metaAppSecret: 'meta-app-secret',
  metaVerifyToken: 'meta-verify-token',
  xConsumerSecret: 'x-consumer-secret',
  tiktokClientSecret: 'tiktok-client-secret',
};
const CONNECTIONS: Record<string, Connection[]> = {
  'instagram:ig-1': [{ orgId: 'org-a', accountId: 'acct-ig' }],
  'facebook:page-1': [{ orgId: 'org-a', accountId: 'acct-fb' }],
  // One X account connected by two organisations.
  'x:42': [
    { orgId: 'org-a', accountId: 'acct-x' },
    { orgId: 'org-b', accountId: 'acct-x-b' },
  ],
  'tiktok:open-1': [{ orgId: 'org-a', accountId: 'acct-tt' }],
};

let bus: Bus;
let published: BusMessage[];
let server: Server | undefined;
let url: string;
let revoked: string[];
let activity: string[];

beforeEach(async () => {
  bus = createMemoryBus();
  published = [];
  revoked = [];
  activity = [];
  await bus.consume({
    topic: EVENTS_TOPIC,
    group: 'test',
    handleBatch: async (batch) => void published.push(...batch.messages),
  });
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  await bus.close();
});

async function start(overrides: Partial<WebhookDeps> = {}): Promise<void> {
  const handler = createWebhookHandler({
    bus,
    resolve: async (platform: SocialPlatform, id: string) => CONNECTIONS[`${platform}:${id}`] ?? [],
    onRevoked: async (platform, id, reason) => void revoked.push(`${platform}:${id}:${reason}`),
    onActivity: async (platform, id) => void activity.push(`${platform}:${id}`),
    secrets: SECRETS,
    now: () => NOW,
    logger: createLogger('silent'),
    ...overrides,
  });
  server = createServer((req, res) => {
    void handler(req, res).then((served) => {
      if (!served) {
        res.writeHead(418);
        res.end('not a webhook');
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Lets the bus hand what was published to the test consumer. */
async function drained(): Promise<EventEnvelope[]> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  return published.map((m) => {
    const parsed = parseEnvelope(m.value);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.envelope;
  });
}

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const igDelivery = JSON.stringify({
  object: 'instagram',
  entry: [
    {
      id: 'ig-1',
      time: T,
      changes: [
        {
          field: 'comments',
          value: {
            id: 'c-1',
            from: { id: 'u-9', username: 'fan' },
            text: 'love this',
            media: { id: 'm-1', media_product_type: 'FEED' },
          },
        },
        { field: 'mentions', value: { media_id: 'm-77' } },
      ],
    },
  ],
});
const signMeta = (body: string) => ({
  'x-hub-signature-256': metaSignature(SECRETS.metaAppSecret, body),
});

describe('routing', () => {
  test('other paths are left alone; unconfigured platforms answer 404', async () => {
    await start({ secrets: { xConsumerSecret: 'x' } });
    const other = await fetch(`${url}/v1/events`, { method: 'POST', body: '{}' });
    expect(other.status).toBe(418);
    expect(await other.text()).toBe('not a webhook');
    const meta = await post('/webhooks/meta', igDelivery, signMeta(igDelivery));
    expect(meta).toEqual({ status: 404, json: { error: 'Meta webhooks are not configured' } });
    const tiktok = await post('/webhooks/tiktok', '{}');
    expect(tiktok.status).toBe(404);
    expect(await drained()).toEqual([]);
  });

  test('a body over the bound is refused with 413 before it is verified', async () => {
    await start({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ object: 'instagram', entry: [], pad: 'x'.repeat(2000) });
    const res = await post('/webhooks/meta', big, signMeta(big));
    expect(res.status).toBe(413);
    expect(res.json['error']).toMatch(/exceeds 1024 bytes/);
  });
});

describe('Meta', () => {
  test('GET verification echoes the challenge only for our verify token', async () => {
    await start();
    const query = (token: string) =>
      `${url}/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${token}`;
    const good = await fetch(query(SECRETS.metaVerifyToken));
    expect(good.status).toBe(200);
    expect(good.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await good.text()).toBe('1158201444');
    const bad = await fetch(query('meta-verify-tokeN'));
    expect(bad.status).toBe(403);
    expect(await bad.json()).toEqual({ error: 'hub.verify_token does not match' });
  });

  test('a signed delivery becomes valid envelopes with content-derived ids', async () => {
    await start();
    const res = await post('/webhooks/meta', igDelivery, signMeta(igDelivery));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ published: 1, unknownAccounts: 0, skipped: 1, activity: 1 });
    const [envelope, ...rest] = await drained();
    expect(rest).toEqual([]);
    expect(envelope).toEqual({
      orgId: 'org-a',
      receivedAt: NOW,
      event: {
        id: eventIdOf('instagram', 'comment', 'c-1'),
        type: 'comment',
        kind: 'comment',
        platform: 'instagram',
        accountId: 'acct-ig',
        occurredAt: new Date(T * 1000).toISOString(),
        commentId: commentIdOf('instagram', 'c-1'),
        postId: postIdOf('instagram', 'm-1'),
        authorHandle: 'fan',
        text: 'love this',
      },
    });
    // The textless mention is left to a poll.
    expect(activity).toEqual(['instagram:ig-1']);
  });

  test('missing, forged and altered signatures publish nothing', async () => {
    await start();
    const missing = await post('/webhooks/meta', igDelivery);
    expect(missing).toEqual({ status: 401, json: { error: 'missing x-hub-signature-256 header' } });
    const forged = await post('/webhooks/meta', igDelivery, {
      'x-hub-signature-256': metaSignature('not-the-secret', igDelivery),
    });
    expect(forged.status).toBe(403);
    const altered = igDelivery.replace('love this', 'love thiS');
    expect(altered.length).toBe(igDelivery.length);
    const tampered = await post('/webhooks/meta', altered, signMeta(igDelivery));
    expect(tampered).toEqual({
      status: 403,
      json: { error: 'x-hub-signature-256 does not match the body' },
    });
    expect(await drained()).toEqual([]);
    expect(activity).toEqual([]);
  });

  test('a replayed delivery carries the same event ids', async () => {
    await start();
    await post('/webhooks/meta', igDelivery, signMeta(igDelivery));
    await post('/webhooks/meta', igDelivery, signMeta(igDelivery));
    const ids = (await drained()).map((e) => e.event.id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  test('malformed JSON with a valid signature is a 400; unknown accounts a 200 with nothing', async () => {
    await start();
    const broken = '{"object":"instagram","entry":[';
    expect(await post('/webhooks/meta', broken, signMeta(broken))).toEqual({
      status: 400,
      json: { error: 'body is not valid JSON' },
    });
    const stranger = igDelivery.replace('"ig-1"', '"ig-404"');
    const res = await post('/webhooks/meta', stranger, signMeta(stranger));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ published: 0, unknownAccounts: 1 });
    expect(await drained()).toEqual([]);
    expect(activity).toEqual([]);
  });

  test('the 2xx waits until the events are on the bus', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: Bus = {
      ...bus,
      publish: async (topic, messages) => {
        await gate;
        await bus.publish(topic, messages);
      },
    };
    await start({ bus: held });
    let answered = false;
    const response = post('/webhooks/meta', igDelivery, signMeta(igDelivery)).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(answered).toBe(false);
    expect(await drained()).toEqual([]);
    release();
    expect((await response).status).toBe(200);
    expect(await drained()).toHaveLength(1);
  });

  test('a failing bus answers 503 so Meta delivers again', async () => {
    const failing: Bus = {
      ...bus,
      publish: async () => {
        throw new Error('broker down');
      },
    };
    await start({ bus: failing });
    const res = await post('/webhooks/meta', igDelivery, signMeta(igDelivery));
    expect(res).toEqual({
      status: 503,
      json: { error: 'the delivery could not be stored; deliver again' },
    });
    expect(await drained()).toEqual([]);
  });
});

describe('X', () => {
  const aaa = JSON.stringify({
    for_user_id: '42',
    tweet_create_events: [
      {
        id_str: '9001',
        created_at: 'Mon Jun 01 11:50:00 +0000 2026',
        timestamp_ms: String(NOW - 600_000),
        text: 'our launch',
        user: { id_str: '42', screen_name: 'loupe' },
      },
      {
        id_str: '9002',
        timestamp_ms: String(NOW - 300_000),
        text: '@loupe congrats',
        in_reply_to_status_id_str: '9001',
        in_reply_to_user_id_str: '42',
        user: { id_str: '7', screen_name: 'friend' },
      },
    ],
  });
  const likes = JSON.stringify({
    for_user_id: '42',
    favorite_events: [
      {
        id: 'fav-1',
        created_at: 'Mon Jun 01 11:55:00 +0000 2026',
        timestamp_ms: NOW - 300_000,
        favorited_status: { id_str: '9001', user: { id_str: '42' } },
        user: { id_str: '7' },
      },
    ],
  });
  const signX = (body: string) => ({
    'x-twitter-webhooks-signature': xSignature(SECRETS.xConsumerSecret, body),
  });

  test('the CRC answer is the base64 HMAC of the token under the consumer secret', async () => {
    await start();
    const res = await fetch(`${url}/webhooks/x?crc_token=challenge-abc`);
    expect(res.status).toBe(200);
    const expected = createHmac('sha256', SECRETS.xConsumerSecret)
      .update('challenge-abc')
      .digest('base64');
    expect(await res.json()).toEqual({ response_token: `sha256=${expected}` });
  });

  test('posts and replies reach every connection of the account; likes make a poll due instead', async () => {
    await start();
    expect((await post('/webhooks/x', aaa, signX(aaa))).json).toMatchObject({ published: 4 });
    // The like is not published: the account's counters are its polls' lifetime totals.
    expect((await post('/webhooks/x', likes, signX(likes))).json).toMatchObject({
      published: 0,
      activity: 1,
    });
    expect(activity).toEqual(['x:42']);
    const envelopes = await drained();
    const forA = envelopes.filter((e) => e.orgId === 'org-a').map((e) => e.event);
    expect(envelopes.filter((e) => e.orgId === 'org-b')).toHaveLength(2);
    expect(forA.map((e) => [e.id, e.type, e.accountId])).toEqual([
      [eventIdOf('x', 'post', '9001', 'published'), 'post', 'acct-x'],
      [eventIdOf('x', 'comment', '9002'), 'comment', 'acct-x'],
    ]);
    expect(forA[1]).toMatchObject({ kind: 'comment', postId: postIdOf('x', '9001') });
    expect(envelopes.some((e) => e.event.type === 'engagement')).toBe(false);
  });

  test('forged, missing and replayed deliveries', async () => {
    await start();
    expect((await post('/webhooks/x', likes)).status).toBe(401);
    const forged = await post('/webhooks/x', likes, {
      'x-twitter-webhooks-signature': xSignature('wrong', likes),
    });
    expect(forged.status).toBe(403);
    expect(await drained()).toEqual([]);
    await post('/webhooks/x', aaa, signX(aaa));
    await post('/webhooks/x', aaa, signX(aaa));
    const ids = (await drained()).filter((e) => e.orgId === 'org-a').map((e) => e.event.id);
    const once = [eventIdOf('x', 'post', '9001', 'published'), eventIdOf('x', 'comment', '9002')];
    expect(ids).toEqual([...once, ...once]);
  });

  test('XAA likes make a poll due; revocations revoke', async () => {
    await start();
    const like = JSON.stringify({
      data: {
        event_uuid: 'uuid-1',
        event_type: 'like.create',
        filter: { user_id: '42', direction: 'inbound' },
        payload: { liked_tweet_id: '9001', created_at: '2026-06-01T11:58:00.000Z' },
      },
    });
    const revoke = JSON.stringify({
      data: { event_uuid: 'uuid-2', event_type: 'oauth.revoke', filter: { user_id: '42' } },
    });
    expect((await post('/webhooks/x', like, signX(like))).json).toMatchObject({
      published: 0,
      activity: 1,
    });
    expect((await post('/webhooks/x', revoke, signX(revoke))).json).toMatchObject({ revoked: 1 });
    expect(await drained()).toEqual([]);
    expect(activity).toEqual(['x:42']);
    expect(revoked).toEqual(['x:42:the user revoked the app (oauth.revoke)']);
  });
});

describe('TikTok', () => {
  const body = (event: string, content: string) =>
    JSON.stringify({
      client_key: 'ck',
      event,
      create_time: T,
      user_openid: 'open-1',
      content,
    });
  const signTiktok = (raw: string, at = Math.floor(NOW / 1000)) => ({
    'tiktok-signature': tiktokSignature(SECRETS.tiktokClientSecret, raw, at),
  });

  test('authorization.removed revokes with the reason; publish completion asks for a poll', async () => {
    await start();
    const removed = body('authorization.removed', '{"reason": 1 }');
    expect((await post('/webhooks/tiktok', removed, signTiktok(removed))).status).toBe(200);
    const done = body('video.publish.completed', '{"share_id":"video.1.abc"}');
    expect((await post('/webhooks/tiktok', done, signTiktok(done))).json).toMatchObject({
      activity: 1,
    });
    const other = body('video.upload.failed', '{"share_id":"video.2.def"}');
    expect((await post('/webhooks/tiktok', other, signTiktok(other))).json).toMatchObject({
      skipped: 1,
      activity: 0,
    });
    expect(revoked).toEqual(['tiktok:open-1:authorization removed: the user disconnected the app']);
    expect(activity).toEqual(['tiktok:open-1']);
    expect(await drained()).toEqual([]);
  });

  test('missing, forged, stale and altered signatures are refused', async () => {
    await start({ tiktokToleranceMs: 60_000 });
    const removed = body('authorization.removed', '{"reason": 2 }');
    expect((await post('/webhooks/tiktok', removed)).status).toBe(401);
    const forged = await post('/webhooks/tiktok', removed, {
      'tiktok-signature': tiktokSignature('wrong', removed, Math.floor(NOW / 1000)),
    });
    expect(forged.status).toBe(403);
    const stale = await post(
      '/webhooks/tiktok',
      removed,
      signTiktok(removed, Math.floor(NOW / 1000) - 61),
    );
    expect(stale.status).toBe(403);
    expect(stale.json['error']).toMatch(/^stale signature/);
    // The timestamp is signed: moving it forward breaks the signature.
    const header = signTiktok(removed, Math.floor(NOW / 1000) - 61)['tiktok-signature'];
    const moved = header.replace(/t=\d+/, `t=${Math.floor(NOW / 1000)}`);
    expect((await post('/webhooks/tiktok', removed, { 'tiktok-signature': moved })).status).toBe(
      403,
    );
    const altered = removed.replace('"client_key":"ck"', '"client_key":"cK"');
    expect(altered).not.toBe(removed);
    expect((await post('/webhooks/tiktok', altered, signTiktok(removed))).status).toBe(403);
    expect(revoked).toEqual([]);
    // Within the window a replay is accepted; revoking twice is harmless.
    expect(
      (await post('/webhooks/tiktok', removed, signTiktok(removed, Math.floor(NOW / 1000) - 59)))
        .status,
    ).toBe(200);
    expect(revoked).toEqual(['tiktok:open-1:authorization removed: the account was deleted']);
  });
});
