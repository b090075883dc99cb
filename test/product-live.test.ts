// Live product tiles through the gateway over graphql-ws, on the embedded product: an app's
// events and users per 5-second window, active users over the last minute, and a funnel's live
// conversion, reaching the subscriber within a second of the POST; another organisation may not
// subscribe to the app.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_product_live_test_0001';
const APP = 'app-live-test';

interface Tile {
  at: string;
  windows: { start: string; events: number; users: number }[];
  activeUsers: { lastMinute: number; last5Minutes: number; last30Minutes: number };
  conversion: {
    firstStepUsers: number;
    lastStepUsers: number;
    converted: number;
    rate: number | null;
  } | null;
}

const LIVE = `subscription ($app: ID!) {
  productLive(appId: $app, funnel: { firstStep: "page_view", lastStep: "purchase" }) {
    at windows { start events users } activeUsers { lastMinute last5Minutes last30Minutes }
    conversion { firstStepUsers lastStepUsers converted rate }
  }
}`;

let loupe: RunningLoupe;
const clients: Client[] = [];

function client(key: string): Client {
  const c = createClient({
    url: loupe.urls.gateway!.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: key },
    retryAttempts: 0,
  });
  clients.push(c);
  return c;
}

async function post(events: object[], key = KEY): Promise<void> {
  const res = await fetch(`${loupe.urls.ingest!}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ events }),
  });
  expect(res.status).toBe(200);
}

const event = (id: string, name: string, userId: string, at: number) => ({
  id,
  type: 'app',
  platform: 'app',
  accountId: APP,
  name,
  userId,
  occurredAt: new Date(at).toISOString(),
});

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
  // The app is tracked once it has sent an event; this one is from an hour and a half ago.
  await post([event('old', 'page_view', 'u-old', Date.now() - 90 * 60_000)]);
  await loupe.caughtUp();
}, 120_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await loupe?.close();
});

test('a tile with the new events reaches the subscriber within a second of the POST', async () => {
  const tiles: { tile: Tile; receivedAt: number }[] = [];
  let waiting: (() => void) | undefined;
  const sub = client(KEY);
  const failed = new Promise<never>((_, reject) => {
    sub.subscribe<{ productLive: Tile }>(
      { query: LIVE, variables: { app: APP } },
      {
        next: ({ data, errors }) => {
          if (errors) reject(new Error(JSON.stringify(errors)));
          if (data) tiles.push({ tile: data.productLive, receivedAt: Date.now() });
          waiting?.();
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(`no tile in ${ms} ms: ${JSON.stringify(tiles.at(-1))}`);
      await Promise.race([
        new Promise<void>((r) => (waiting = r)),
        failed,
        new Promise((r) => setTimeout(r, 50)),
      ]);
    }
  };
  // The first tile comes at once, before any event of the last hour.
  await until(() => tiles.length > 0, 5_000);
  expect(tiles[0]!.tile.windows).toHaveLength(12);
  expect(tiles[0]!.tile.windows.reduce((s, w) => s + w.events, 0)).toBe(0);
  expect(tiles[0]!.tile.activeUsers.last30Minutes).toBe(0);

  // 40 users view a page; 15 of them buy; 5 others buy without a view in the hour.
  const now = Date.now();
  const batch = [
    ...Array.from({ length: 40 }, (_, i) => event(`v${i}`, 'page_view', `u${i}`, now - 500)),
    ...Array.from({ length: 15 }, (_, i) => event(`p${i}`, 'purchase', `u${i}`, now - 400)),
    ...Array.from({ length: 5 }, (_, i) => event(`q${i}`, 'purchase', `w${i}`, now - 400)),
  ];
  const sent = Date.now();
  await post(batch);
  const seen = () => tiles.find((t) => t.tile.windows.reduce((s, w) => s + w.events, 0) === 60);
  await until(() => seen() !== undefined, 5_000);
  const { tile, receivedAt } = seen()!;
  expect(receivedAt - sent).toBeLessThan(1_000);
  // 45 distinct users in the minute; sketches are estimates, within 3 of so few.
  expect(Math.abs(tile.activeUsers.lastMinute - 45)).toBeLessThanOrEqual(3);
  expect(tile.activeUsers.last30Minutes).toBe(tile.activeUsers.last5Minutes);
  const conversion = tile.conversion!;
  // The event of 90 minutes ago is outside the hour.
  expect(Math.abs(conversion.firstStepUsers - 40)).toBeLessThanOrEqual(2);
  expect(Math.abs(conversion.lastStepUsers - 20)).toBeLessThanOrEqual(2);
  expect(Math.abs(conversion.converted - 15)).toBeLessThanOrEqual(3);
  expect(conversion.rate!).toBeCloseTo(conversion.converted / conversion.firstStepUsers, 12);
});

test('another organisation cannot subscribe to the app', async () => {
  const other = await loupe.createOrganisation('Other org');
  const errors = await new Promise<unknown>((resolve) => {
    client(other.apiKey).subscribe(
      { query: LIVE, variables: { app: APP } },
      {
        next: ({ errors: e }) => e && resolve(e),
        error: resolve,
        complete: () => resolve(undefined),
      },
    );
  });
  const messages = (errors as { message: string }[]).map((e) => e.message);
  expect(messages).toEqual(['no app "app-live-test" is tracked by this organisation']);
});
