// SIGTERM on `npm start` drains instead of cutting: queries in flight get their answers, an
// acknowledged batch is counted after a restart on the same data, and the process exits 0 well
// within its grace period.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EventInput } from '../schema/event-envelope.ts';
import { postGraphQL, type Reply } from './support/graphql-http.ts';
import { startProductProcess, type ProductProcess } from './support/product-process.ts';

const KEY = 'loupe_shutdown_test_0000000000';
const GRACE_MS = 10_000;
const DAY = 86_400_000;

const LIKES_QUERY = /* GraphQL */ `
  query ($id: ID!, $from: DateTime!, $to: DateTime!) {
    account(id: $id) {
      metrics(range: { from: $from, to: $to }, granularity: DAY) {
        series {
          metric
          total
        }
      }
    }
  }
`;

interface LikesData {
  account: { metrics: { series: { metric: string; total: number }[] } } | null;
}

function likes(accountId: string, count: number): EventInput[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    type: 'engagement' as const,
    platform: 'instagram' as const,
    accountId,
    metric: 'likes' as const,
    mode: 'delta' as const,
    value: 1,
    occurredAt: new Date(now - (i % 48) * 3_600_000).toISOString(),
  }));
}

async function postBatch(ingest: string, events: EventInput[]): Promise<number> {
  const res = await fetch(`${ingest}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { accepted?: number };
  expect(res.status).toBe(200);
  return body.accepted ?? 0;
}

/** `shift` quarter-hours earlier starts make different ranges, which no cached answer serves. */
function queryLikes(gateway: string, accountId: string, shift = 0): Promise<Reply<LikesData>> {
  const now = Date.now();
  return postGraphQL<LikesData>(gateway, KEY, LIKES_QUERY, {
    id: accountId,
    from: new Date(now - 30 * DAY - shift * 15 * 60_000).toISOString(),
    to: new Date(now + DAY).toISOString(),
  });
}

const totalLikes = (reply: Reply<LikesData>) =>
  reply.data?.account?.metrics.series.find((s) => s.metric === 'LIKES')?.total;

describe('shutdown on SIGTERM', () => {
  let dataDir: string;
  let product: ProductProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-shutdown-'));
  });
  afterAll(async () => {
    await product?.stop('SIGKILL').catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    product = await startProductProcess({
      dataDir,
      apiKey: KEY,
      // Room for the whole burst below, so every query is admitted rather than refused.
      // A drain long enough for the whole burst on a busy machine, still inside the grace.
      env: {
        LOUPE_GATEWAY_MAX_IN_FLIGHT: '64',
        LOUPE_SHUTDOWN_GRACE_MS: String(GRACE_MS),
        LOUPE_DRAIN_MS: String(GRACE_MS - 2000),
      },
    });
    return product;
  };

  test('queries in flight get their answers, and the process exits 0 within its grace', async () => {
    const running = await start();
    const accountId = `acct-${randomUUID()}`;
    expect(await postBatch(running.ingest, likes(accountId, 500))).toBe(500);

    let killedAt = Infinity;
    const answeredAt: number[] = [];
    // Each query of the burst its own range, so each is worked out rather than answered at once.
    const burst = Array.from({ length: 24 }, (_, i) =>
      queryLikes(running.gateway, accountId, i).then(
        (reply) => {
          answeredAt.push(Date.now());
          return reply;
        },
        (error: unknown): Reply<LikesData> => ({ status: 0, errors: [{ message: String(error) }] }),
      ),
    );
    // The first answer, and a moment more, mean every query of the burst has reached the server
    // (a query that arrives after SIGTERM is rightly refused): the rest are in flight.
    await Promise.race(burst);
    await new Promise((r) => setTimeout(r, 300));
    killedAt = Date.now();
    const stopped = running.stop('SIGTERM');
    const replies = await Promise.all(burst);
    const { code, ms } = await stopped;
    product = undefined;

    expect(replies.map((r) => [r.status, r.errors ?? []])).toEqual(replies.map(() => [200, []]));
    expect(answeredAt.filter((t) => t > killedAt).length).toBeGreaterThan(0);
    expect(code, running.output()).toBe(0);
    expect(ms).toBeLessThan(GRACE_MS);
  });

  test('an acknowledged batch is counted after a restart on the same data', async () => {
    const first = await start();
    const accountId = `acct-${randomUUID()}`;
    let acknowledged = 0;
    for (let i = 0; i < 5; i++)
      acknowledged += await postBatch(first.ingest, likes(accountId, 1000));
    // At once after the last acknowledgement: the pipeline has not stored all of it yet.
    const { code, ms } = await first.stop('SIGTERM');
    product = undefined;
    expect(code, first.output()).toBe(0);
    expect(ms).toBeLessThan(GRACE_MS);

    const second = await start();
    const reply = await queryLikes(second.gateway, accountId);
    expect(reply.errors ?? []).toEqual([]);
    expect(totalLikes(reply)).toBe(acknowledged);
  });
});
