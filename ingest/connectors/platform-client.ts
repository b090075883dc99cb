// Every call a connector makes goes through here: the token refreshed before it expires (and once
// more when the platform says it has), the endpoint's limit waited for, a bounded timeout, full
// jitter backoff on 5xx and timeouts, and no retry on other refusals. Pools are undici's, kept
// alive per platform host.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type {
  ApiRequest,
  ApiResponse,
  Connection,
  Credentials,
  PlatformApi,
  PlatformProtocol,
  RawHttp,
} from './connector.ts';
import { ConnectorError } from './connector.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** The keep-alive pools platform calls go through, one per platform host; the only undici Agent. */
export function createPlatformPools(connectionsPerHost: number): Dispatcher {
  return new Agent({ keepAliveTimeout: 30_000, connections: connectionsPerHost });
}

export interface ClientSettings {
  /** Every call, headers and body, within this. */
  timeoutMs: number;
  /** Tries of a call that failed transiently, and the full-jitter backoff between them. */
  retry: { attempts: number; baseMs: number; capMs: number };
  /**
   * A limit that would hold a call longer than this ends the poll as rate-limited instead, so a
   * poll waiting on a spent allowance (TikTok's per-app minute) gives its slot to polls that can
   * go on; it resumes from its checkpoint when the allowance is back.
   */
  maxLimitWaitMs: number;
  /** Pause after a throttled answer that announces no reset. */
  throttlePauseMs: number;
}

export const DEFAULT_CLIENT_SETTINGS: ClientSettings = {
  timeoutMs: 15_000,
  retry: { attempts: 5, baseMs: 500, capMs: 30_000 },
  maxLimitWaitMs: 2_000,
  throttlePauseMs: 60_000,
};

/** What one client did; the manager adds them to the process's metrics. */
export interface CallStats {
  calls: number;
  throttled: number;
  retried: number;
  refreshed: number;
}

export interface PlatformClientDeps {
  protocol: PlatformProtocol;
  connection: Connection;
  credentials: Credentials;
  limiter: RateLimiter;
  dispatcher: Dispatcher;
  settings?: ClientSettings;
  /** Stores refreshed credentials before they are used: a rotated refresh token works once. */
  onCredentials(credentials: Credentials): Promise<void>;
  signal?: AbortSignal;
  now?: () => number;
  random?: () => number;
}

export interface PlatformClient extends PlatformApi {
  readonly stats: CallStats;
  /** The limiter's key for this connection's allowance. */
  readonly allowance: string;
  credentials(): Credentials;
}

/** The limiter's name for whose allowance a call of this connection spends. */
export function allowanceOf(protocol: PlatformProtocol, connection: Connection): string {
  return protocol.limitScope === 'app'
    ? `${protocol.platform}|app`
    : `${protocol.platform}|${connection.platformAccountId}`;
}

const MAX_THROTTLED_TRIES = 5;

export function createPlatformClient(deps: PlatformClientDeps): PlatformClient {
  const { protocol, limiter, dispatcher } = deps;
  const settings = deps.settings ?? DEFAULT_CLIENT_SETTINGS;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const signal = deps.signal ?? new AbortController().signal;
  const allowance = allowanceOf(protocol, deps.connection);
  const stats: CallStats = { calls: 0, throttled: 0, retried: 0, refreshed: 0 };
  let credentials = deps.credentials;
  let refreshing: Promise<void> | undefined;

  const backoff = (attempt: number) =>
    random() * Math.min(settings.retry.capMs, settings.retry.baseMs * 2 ** attempt);

  async function send(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<ApiResponse> {
    stats.calls += 1;
    const res = await request(url, {
      method,
      headers,
      body,
      dispatcher,
      signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy's error page): judged by its status.
    }
    return { status: res.statusCode, headers: res.headers, body: parsed };
  }

  /** Sends, retrying failures of the network and timeouts; answers whatever the platform said. */
  async function sendRetrying(
    what: string,
    attempt: (retry: number) => Promise<ApiResponse>,
  ): Promise<ApiResponse> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(retry);
      } catch (error) {
        if (signal.aborted) throw error;
        if (retry + 1 >= settings.retry.attempts) {
          throw new ConnectorError(
            'failed',
            `${what}: no answer after ${settings.retry.attempts} tries (${describeNetworkError(error)})`,
          );
        }
        stats.retried += 1;
        await sleepFor(backoff(retry), undefined, { signal });
      }
    }
  }

  const rawHttp: RawHttp = async ({ method, url, headers = {}, form }) => {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const all = form
      ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' }
      : headers;
    for (let retry = 0; ; retry++) {
      const res = await sendRetrying('token endpoint', () => send(method, url, all, body));
      if (res.status < 500 || retry + 1 >= settings.retry.attempts) return res;
      stats.retried += 1;
      await sleepFor(backoff(retry), undefined, { signal });
    }
  };

  async function refresh(): Promise<void> {
    refreshing ??= (async () => {
      try {
        if (credentials.refreshExpiresAt !== undefined && credentials.refreshExpiresAt <= now()) {
          throw new ConnectorError('revoked', 'the refresh token has expired: connect again');
        }
        const fresh = await protocol.refresh(credentials, rawHttp);
        await deps.onCredentials(fresh);
        credentials = fresh;
        stats.refreshed += 1;
      } finally {
        refreshing = undefined;
      }
    })();
    await refreshing;
  }

  async function ensureFresh(): Promise<void> {
    if (refreshing) await refreshing;
    const { expiresAt } = credentials;
    if (expiresAt !== undefined && expiresAt - now() <= protocol.refreshAheadMs) await refresh();
  }

  /** Waits for the endpoint's limit, or ends the poll when that would take too long. */
  async function acquire(endpoint: string): Promise<void> {
    const clientLimit = protocol.clientLimit?.(endpoint);
    for (;;) {
      const wait = limiter.reserve(allowance, endpoint, clientLimit);
      if (wait === 0) return;
      if (wait > settings.maxLimitWaitMs) {
        throw new ConnectorError(
          'rate-limited',
          `${endpoint}: rate limited until ${new Date(now() + wait).toISOString()}`,
          now() + wait,
        );
      }
      await sleepFor(wait, undefined, { signal });
    }
  }

  async function call<T>(req: ApiRequest): Promise<T> {
    const method = req.method ?? 'GET';
    const url = new URL(req.path.replace(/^\//, ''), protocol.baseUrl.replace(/\/?$/, '/'));
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    let refreshedForThisCall = false;
    let transient = 0;
    let throttled = 0;
    await ensureFresh();
    for (;;) {
      await acquire(req.endpoint);
      const headers = {
        ...protocol.authorise(credentials.accessToken),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      };
      const res = await sendRetrying(req.endpoint, async (retry) => {
        if (retry > 0) await acquire(req.endpoint);
        return send(method, url.toString(), headers, body);
      });
      const at = now();
      const reading = protocol.readLimits(res, at);
      if (reading) limiter.update(allowance, req.endpoint, reading);
      const verdict = protocol.judge(res, at);
      switch (verdict.kind) {
        case 'ok':
          return res.body as T;
        case 'expired':
          if (refreshedForThisCall) {
            throw new ConnectorError('revoked', `${req.endpoint}: a refreshed token was refused`);
          }
          refreshedForThisCall = true;
          await refresh();
          continue;
        case 'revoked':
          throw new ConnectorError('revoked', `${req.endpoint}: ${verdict.reason}`);
        case 'throttled': {
          stats.throttled += 1;
          const until = verdict.until ?? at + settings.throttlePauseMs;
          limiter.update(allowance, req.endpoint, { kind: 'blocked', until });
          if (++throttled >= MAX_THROTTLED_TRIES) {
            throw new ConnectorError('rate-limited', `${req.endpoint}: ${verdict.reason}`, until);
          }
          continue;
        }
        case 'transient':
          if (++transient >= settings.retry.attempts) {
            throw new ConnectorError(
              'failed',
              `${req.endpoint}: ${verdict.reason} (after ${transient} tries)`,
            );
          }
          stats.retried += 1;
          await sleepFor(backoff(transient - 1), undefined, { signal });
          continue;
        case 'failed':
          throw new ConnectorError('failed', `${req.endpoint}: ${verdict.reason}`);
      }
    }
  }

  return { call, stats, allowance, credentials: () => credentials };
}

/** A network failure's kind, without the URL (which may carry a token at a token endpoint). */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'HeadersTimeoutError') return 'timed out';
    if (error.name === 'BodyTimeoutError') return 'timed out reading the answer';
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    return error.name;
  }
  return 'unknown error';
}
