// A fake of TikTok's API v2 for tests, the demo and benchmarks: the Display API (user info,
// video list, video query) and the OAuth token endpoint on one local HTTP server, behaving as
// PLATFORMS.md part C documents, with faults, revocations and a clock a test can script.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccountStore,
  type Population,
  type UserRecord,
  type UserSeed,
  type VideoRecord,
} from './tiktok-data.ts';
import {
  codeForStatus,
  errorAnswer,
  oauthError,
  type Answer,
  type ErrorCode,
} from './tiktok-envelope.ts';
import {
  oauthToken,
  userInfo,
  videoList,
  videoQuery,
  type ApiContext,
  type ParsedRequest,
} from './tiktok-routes.ts';
import { createSlidingWindows, type WindowLimit } from './sliding-window.ts';
import { TokenStore, type IssuedToken } from './tiktok-tokens.ts';
import { deliverWebhook, type DeliveryResult, type WebhookDelivery } from './tiktok-webhooks.ts';

export type { UserSeed, Population, VideoRecord, UserRecord } from './tiktok-data.ts';
export type { IssuedToken } from './tiktok-tokens.ts';
export { signTikTokWebhook } from './tiktok-webhooks.ts';

export const TOKEN_PATH = '/v2/oauth/token/';

/** The Display API's endpoints, by the name the limits and the call log use. */
const ROUTES = {
  'GET /v2/user/info/': userInfo,
  'POST /v2/video/list/': videoList,
  'POST /v2/video/query/': videoQuery,
} as const;

export interface TikTokFakeOptions {
  clientKey?: string;
  clientSecret?: string;
  /** Per endpoint and app, on a sliding window; default 600 per 60 s (PLATFORMS.md C.4). */
  rateLimit?: Partial<WindowLimit>;
  /** Epoch ms; tokens expire and data is generated against it. */
  now?: () => number;
  rotateRefreshTokens?: boolean;
  /** Keep every call in `calls`; a benchmark of thousands of accounts may turn it off. */
  logCalls?: boolean;
}

export interface Fault {
  status: number;
  /** The v2 error code answered; by default the one the status stands for. */
  code?: ErrorCode;
  /** How many calls it answers; default 1. */
  count?: number;
  /** Only calls to this path (e.g. `/v2/video/list/`); by default any Display API call. */
  path?: string;
}

export interface CallRecord {
  method: string;
  path: string;
  at: number;
  status: number;
  /** `error.code` of a Display API answer, `error` of an OAuth one. */
  code: string;
  openId?: string;
}

export interface FakeStats {
  requests: number;
  /** 429s answered because the window was full (not injected ones). */
  throttled: number;
  /** 429s per window, by the window's index since the fake started (window = rateLimit's). */
  throttledPerWindow: Record<number, number>;
  injected: number;
  byEndpoint: Record<string, { requests: number; throttled: number }>;
}

export interface TikTokFake {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  clientKey: string;
  clientSecret: string;
  /** Answers the user's open_id. */
  addUser(seed: UserSeed): string;
  /** Registers `count` accounts built on first use; answers their open_ids. */
  addUsers(population: Population): string[];
  /** A new public video, newest of the user's. */
  postVideo(openId: string, overrides?: Partial<VideoRecord>): VideoRecord;
  /** Sets a video's counters, as engagement growing between polls would. */
  setCounts(
    openId: string,
    videoId: string,
    counts: Partial<
      Pick<VideoRecord, 'like_count' | 'comment_count' | 'share_count' | 'view_count'>
    >,
  ): void;
  /** The ground truth: the user's public videos (what the API may answer), newest first. */
  truth(openId: string): { user: UserRecord; videos: VideoRecord[] };
  issueToken(openId: string, scopes?: readonly string[]): IssuedToken;
  /** An authorization code for `grant_type=authorization_code`. */
  authorizationCode(openId: string, scopes?: readonly string[]): string;
  expire(accessToken: string): void;
  revoke(openId: string): void;
  inject(fault: Fault): void;
  inject429(count?: number, path?: string): void;
  deliverWebhook(delivery: WebhookDelivery): Promise<DeliveryResult>;
  readonly calls: readonly CallRecord[];
  readonly stats: FakeStats;
  close(): Promise<void>;
}

const DEFAULT_LIMIT: WindowLimit = { calls: 600, windowMs: 60_000 };

export async function startTikTokFake(options: TikTokFakeOptions = {}): Promise<TikTokFake> {
  const {
    clientKey = 'fake-client-key',
    clientSecret = 'fake-client-secret',
    now = Date.now,
    logCalls = true,
  } = options;
  const limit = { ...DEFAULT_LIMIT, ...options.rateLimit };
  const app = { clientKey, clientSecret };
  const accounts = new AccountStore(now);
  const tokens = new TokenStore({
    now,
    clientKey,
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
  });
  const windows = createSlidingWindows(limit);
  const faults: (Required<Omit<Fault, 'path'>> & { path?: string })[] = [];
  const calls: CallRecord[] = [];
  const startedAt = now();
  const stats: FakeStats = {
    requests: 0,
    throttled: 0,
    throttledPerWindow: {},
    injected: 0,
    byEndpoint: {},
  };

  function inject({ status, code = codeForStatus(status), count = 1, path }: Fault): void {
    faults.push({ status, code, count, ...(path !== undefined && { path }) });
  }

  function takeFault(path: string): Answer | undefined {
    const fault = faults.find((f) =>
      f.path === undefined ? path !== TOKEN_PATH : f.path === path,
    );
    if (!fault) return undefined;
    if (--fault.count <= 0) faults.splice(faults.indexOf(fault), 1);
    stats.injected += 1;
    if (path === TOKEN_PATH) {
      return oauthError(
        fault.status >= 500 ? 'server_error' : 'invalid_request',
        'Injected.',
        now(),
      );
    }
    return errorAnswer(fault.code, now(), undefined, fault.status);
  }

  function answerApi(endpoint: keyof typeof ROUTES, req: ParsedRequest, bearer?: string) {
    const at = now();
    const grant = tokens.check(bearer);
    const account = grant && accounts.get(grant.openId);
    if (!grant || !account) return { answer: errorAnswer('access_token_invalid', at) };
    const counts = (stats.byEndpoint[endpoint] ??= { requests: 0, throttled: 0 });
    counts.requests += 1;
    // Limits are the app's, per endpoint; a refused call is not counted against the window.
    if (!windows.take(`${grant.clientKey}|${endpoint}`, at)) {
      counts.throttled += 1;
      stats.throttled += 1;
      const index = Math.floor((at - startedAt) / limit.windowMs);
      stats.throttledPerWindow[index] = (stats.throttledPerWindow[index] ?? 0) + 1;
      return { answer: errorAnswer('rate_limit_exceeded', at), openId: grant.openId };
    }
    const ctx: ApiContext = { grant, account, now: at };
    return { answer: ROUTES[endpoint](req, ctx), openId: grant.openId };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = now();
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const parsed: ParsedRequest = {
      query: url.searchParams,
      body: Buffer.concat(chunks).toString('utf8'),
      contentType: req.headers['content-type'] ?? '',
    };
    stats.requests += 1;
    const endpoint = `${req.method} ${url.pathname}`;
    let result: { answer: Answer; openId?: string };
    const fault = takeFault(url.pathname);
    if (fault) result = { answer: fault };
    else if (endpoint === `POST ${TOKEN_PATH}`) {
      result = { answer: oauthToken(parsed, app, tokens, accounts, at) };
    } else if (endpoint in ROUTES) {
      const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      result = answerApi(endpoint as keyof typeof ROUTES, parsed, bearer);
    } else {
      result = { answer: errorAnswer('invalid_params', at, `No endpoint ${endpoint}.`, 404) };
    }
    const { status, body } = result.answer;
    if (logCalls) {
      calls.push({
        method: req.method ?? '',
        path: url.pathname,
        at,
        status,
        code: codeOf(body),
        ...(result.openId !== undefined && { openId: result.openId }),
      });
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    clientKey,
    clientSecret,
    addUser(seed) {
      accounts.add(seed);
      return seed.openId;
    },
    addUsers(population) {
      const prefix = accounts.addPopulation(population);
      return Array.from({ length: population.count }, (_, i) => `${prefix}${i}`);
    },
    postVideo: (openId, overrides) => accounts.post(openId, now(), overrides),
    setCounts(openId, videoId, counts) {
      const video = accounts.require(openId).videos.find((v) => v.id === videoId);
      if (!video) throw new Error(`the fake has no video ${videoId} of ${openId}`);
      Object.assign(video, counts);
    },
    truth(openId) {
      const account = structuredClone(accounts.require(openId));
      return { user: account.user, videos: account.videos.filter((v) => v.isPublic) };
    },
    issueToken(openId, scopes) {
      accounts.require(openId);
      return tokens.issue(openId, scopes);
    },
    authorizationCode(openId, scopes) {
      accounts.require(openId);
      return tokens.code(openId, scopes);
    },
    expire: (accessToken) => tokens.expire(accessToken),
    revoke: (openId) => tokens.revoke(openId),
    inject,
    inject429: (count = 1, path) =>
      inject({ status: 429, count, ...(path !== undefined && { path }) }),
    deliverWebhook: (delivery) => deliverWebhook(delivery, app, now),
    calls,
    stats,
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function codeOf(body: unknown): string {
  if (body === null || typeof body !== 'object') return '';
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return error;
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'ok';
}
