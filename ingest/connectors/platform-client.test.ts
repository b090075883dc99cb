// The platform client against a local HTTP server that answers as scripted: what every connector
// relies on (refresh, limits, backoff, no retry on refusals, timeouts), checked once here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, type Credentials, type PlatformProtocol } from './connector.ts';
import { createPlatformClient, type ClientSettings } from './platform-client.ts';
import { RateLimiter } from './rate-limiter.ts';

type Reply = { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number };
let script: ((req: IncomingMessage) => Reply)[] = [];
const seen: { url: string; authorization?: string }[] = [];
let server: Server;
let base: string;
const dispatcher = new Agent({ connections: 4 });

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const next = script.shift();
    const reply: Reply = next ? next(req) : { status: 200, body: { ok: true } };
    setTimeout(() => {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body ?? {}));
    }, reply.delayMs ?? 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await dispatcher.close();
});
afterEach(() => {
  script = [];
  seen.length = 0;
});

const settings: ClientSettings = {
  timeoutMs: 300,
  retry: { attempts: 3, baseMs: 1, capMs: 5 },
  maxLimitWaitMs: 2000,
  throttlePauseMs: 50,
};

function protocol(refreshed: Credentials[] = []): PlatformProtocol {
  return {
    platform: 'x',
    baseUrl: base,
    authorise: (token) => ({ authorization: `Bearer ${token}` }),
    judge(res) {
      if (res.status < 300) return { kind: 'ok' };
      if (res.status === 401) return { kind: 'expired', reason: 'expired' };
      if (res.status === 403) return { kind: 'revoked', reason: 'the grant was revoked' };
      if (res.status === 429) {
        const reset = Number(res.headers['x-reset']);
        return { kind: 'throttled', reason: 'too many', ...(reset > 0 && { until: reset }) };
      }
      if (res.status >= 500) return { kind: 'transient', reason: `HTTP ${res.status}` };
      return { kind: 'failed', reason: `HTTP ${res.status}` };
    },
    readLimits(res) {
      const limit = Number(res.headers['x-limit']);
      if (!limit) return null;
      return {
        kind: 'window',
        limit,
        remaining: Number(res.headers['x-remaining']),
        resetAt: Number(res.headers['x-reset']),
      };
    },
    limitScope: 'user',
    refreshAheadMs: 60_000,
    async refresh(c) {
      const fresh = { ...c, accessToken: `${c.accessToken}+`, expiresAt: Date.now() + 3_600_000 };
      refreshed.push(fresh);
      return Promise.resolve(fresh);
    },
  };
}

function client(
  options: { credentials?: Credentials; proto?: PlatformProtocol; limiter?: RateLimiter } = {},
) {
  const stored: Credentials[] = [];
  const c = createPlatformClient({
    protocol: options.proto ?? protocol(),
    connection: { orgId: 'o', accountId: 'a', platform: 'x', platformAccountId: 'u1' },
    credentials: options.credentials ?? { accessToken: 'tok-1', expiresAt: Date.now() + 3_600_000 },
    limiter: options.limiter ?? new RateLimiter(),
    dispatcher,
    settings,
    onCredentials: async (fresh) => {
      stored.push(fresh);
    },
  });
  return { c, stored };
}

const call = (c: ReturnType<typeof client>['c']) =>
  c.call<{ ok?: boolean }>({
    path: '/2/things',
    query: { a: 1, b: undefined },
    endpoint: 'GET /2/things',
  });

/** The ConnectorError a call ended with; fails the test when it did not end with one. */
async function refusal(pending: Promise<unknown>): Promise<ConnectorError> {
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectorError))
    throw new Error(`expected a ConnectorError, got ${String(error)}`);
  return error;
}

describe('platform client', () => {
  it('sends the token in a header, never in the URL, and answers the JSON body', async () => {
    const { c } = client();
    expect(await call(c)).toEqual({ ok: true });
    expect(seen).toEqual([{ url: '/2/things?a=1', authorization: 'Bearer tok-1' }]);
  });

  it('refreshes a token about to expire before calling, and stores it first', async () => {
    const { c, stored } = client({
      credentials: { accessToken: 'old', expiresAt: Date.now() + 1000 },
    });
    await call(c);
    expect(stored.map((s) => s.accessToken)).toEqual(['old+']);
    expect(seen[0]!.authorization).toBe('Bearer old+');
    expect(c.stats.refreshed).toBe(1);
  });

  it('refreshes once when the platform says the token expired, and calls again', async () => {
    script = [() => ({ status: 401 })];
    const { c, stored } = client();
    expect(await call(c)).toEqual({ ok: true });
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1+']);
    expect(stored).toHaveLength(1);
  });

  it('treats a refreshed token refused again as a grant that is gone', async () => {
    script = [() => ({ status: 401 }), () => ({ status: 401 })];
    const { c } = client();
    const error = await refusal(call(c));
    expect(error.kind).toBe('revoked');
  });

  it('does not retry a revoked grant or another refusal', async () => {
    script = [() => ({ status: 403 })];
    const revoked = await refusal(call(client().c));
    expect(revoked.kind).toBe('revoked');
    expect(seen).toHaveLength(1);
    seen.length = 0;
    script = [() => ({ status: 404 })];
    const failed = await refusal(call(client().c));
    expect([failed.kind, failed.message]).toEqual(['failed', 'GET /2/things: HTTP 404']);
    expect(seen).toHaveLength(1);
  });

  it('backs off and retries 5xx and timeouts, up to its attempts', async () => {
    script = [
      () => ({ status: 503 }),
      () => ({ status: 200, delayMs: 600 }),
      () => ({ status: 200, body: { ok: 1 } }),
    ];
    const { c } = client();
    expect(await call(c)).toEqual({ ok: 1 });
    expect(seen).toHaveLength(3);
    expect(c.stats.retried).toBe(2);
    seen.length = 0;
    script = [
      () => ({ status: 500 }),
      () => ({ status: 502 }),
      () => ({ status: 500 }),
      () => ({ status: 200 }),
    ];
    const error = await refusal(call(client().c));
    expect(error.kind).toBe('failed');
    expect(error.message).toMatch(/after 3 tries/);
    expect(seen).toHaveLength(3);
  });

  it('waits for an announced reset after a 429, then goes on', async () => {
    const started = Date.now();
    script = [() => ({ status: 429, headers: { 'x-reset': String(Date.now() + 300) } })];
    const { c } = client();
    expect(await call(c)).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(c.stats.throttled).toBe(1);
  });

  it('waits before calling when the headers say the window is spent: no 429 is needed to learn it', async () => {
    const limiter = new RateLimiter();
    const reset = Date.now() + 400;
    script = [
      () => ({
        status: 200,
        headers: { 'x-limit': '5', 'x-remaining': '0', 'x-reset': String(reset) },
      }),
    ];
    const { c } = client({ limiter });
    await call(c);
    const before = Date.now();
    await call(c);
    // 1 s of margin after the reset, for clocks a little apart.
    expect(Date.now() - before).toBeGreaterThanOrEqual(reset - before + 900);
    expect(seen).toHaveLength(2);
  });

  it('ends with rate-limited, and until when, rather than wait longer than it may', async () => {
    const until = Date.now() + 3_600_000;
    script = [() => ({ status: 429, headers: { 'x-reset': String(until) } })];
    const error = await refusal(call(client().c));
    expect(error.kind).toBe('rate-limited');
    expect(error.until).toBeGreaterThanOrEqual(until - 5);
    expect(seen).toHaveLength(1);
  });
});
