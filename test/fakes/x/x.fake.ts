// A fake of the X API v2 as PLATFORMS.md part B documents it, for the connector's tests, the
// benchmark and the demo: user lookup, the user's posts timeline, the OAuth 2.0 token endpoint,
// per-user fixed-window limits with their headers, problem JSON errors, and scripted failures.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { XDirectory, type PublicMetrics, type UserSeed, type XPost, type XUser } from './x-data.ts';
import {
  DOCUMENTED_USER_LIMITS,
  FixedWindows,
  limitHeaders,
  type ThrottleStats,
} from './x-limits.ts';
import { tokenEndpoint, type OAuthClient } from './x-oauth.ts';
import {
  FORBIDDEN,
  NOT_FOUND,
  TOO_MANY_REQUESTS,
  UNAUTHORIZED,
  USAGE_CAPPED,
  invalidRequest,
  resourceNotFound,
  serverError,
  type Problem,
} from './x-problems.ts';
import { parseTimelineQuery, parseUserQuery, queryFingerprint } from './x-query.ts';
import { PageTokens, renderUser, timelinePage, type FieldNames } from './x-timeline.ts';
import { DEFAULT_SCOPES, XTokens, type IssuedToken } from './x-tokens.ts';

export const X_ENDPOINTS = {
  timeline: 'GET /2/users/:id/tweets',
  user: 'GET /2/users/:id',
} as const;

export const DEFAULT_X_CLIENT: Required<OAuthClient> = {
  id: 'loupe-x-client',
  secret: 'loupe-x-client-secret',
};

export interface XFakeOptions {
  /** The fake's clock (epoch ms): token lifetimes, limit windows, post ages. */
  now?: () => number;
  /** Length of every limit window; 15 minutes as documented. */
  windowMs?: number;
  /** Calls per window by endpoint, over the documented per-user limits. */
  limits?: Record<string, number>;
  /** 7200 s as documented. */
  accessTokenTtlMs?: number;
  /** Page tokens "may expire": refused when older than this. Kept forever when absent. */
  pageTokenTtlMs?: number;
  /** The registered OAuth clients; one confidential client by default. */
  clients?: OAuthClient[];
  /** `spec-2.167` sends `repost_count` and `post_count`, as the newer OpenAPI spec names them. */
  fieldNames?: FieldNames;
}

export interface CallRecord {
  method: string;
  /** Without the query string. */
  path: string;
  query: Record<string, string>;
  status: number;
  /** The fake's clock when the answer went. */
  at: number;
  endpoint?: string;
  userId?: string;
}

export interface InjectedFailure {
  status: 500 | 502 | 503 | 504;
  /** How many calls answer it; 1 by default. */
  count?: number;
  /** Only calls of this endpoint (`X_ENDPOINTS`); every API call when absent. */
  endpoint?: string;
  /** Held this long before answering, to look like a slow platform. */
  delayMs?: number;
}

export interface Injected429 {
  /** The window resets this long after the 429; a second by default. */
  resetInMs?: number;
  endpoint?: string;
  userId?: string;
  /** A usage cap instead (not retryable): this many calls answer it. */
  usageCapped?: number;
}

export interface XFakeStats extends ThrottleStats {
  requests: number;
  byStatus: Record<string, number>;
  usageCapped: number;
}

export interface XFake {
  url: string;
  close(): Promise<void>;
  addUser(spec: UserSeed): XUser;
  /** `count` users generated only when read (for benchmarks); answers their ids. */
  addUsers(
    count: number,
    seed: number | string,
    spec?: Omit<UserSeed, 'id' | 'seed' | 'username'>,
  ): string[];
  addPost(
    userId: string,
    fields?: { text?: string; createdAt?: number; metrics?: Partial<PublicMetrics> },
  ): XPost;
  /** The user's record as the fake holds it: every post with its counters, newest first. */
  truth(userId: string): XUser;
  issueToken(userId: string, options?: { scopes?: string[]; clientId?: string }): IssuedToken;
  expire(accessToken: string): void;
  revoke(userId: string): void;
  inject(failure: InjectedFailure): void;
  inject429(options?: Injected429): void;
  readonly calls: CallRecord[];
  stats(): XFakeStats;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({
  status,
  body,
  ...(headers && { headers }),
});
const problem = (p: Problem, headers?: Record<string, string>) => json(p.status, p.body, headers);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startXFake(options: XFakeOptions = {}): Promise<XFake> {
  const now = options.now ?? Date.now;
  const accessTtlMs = options.accessTokenTtlMs ?? 7200_000;
  const clients = options.clients ?? [DEFAULT_X_CLIENT];
  const fieldNames = options.fieldNames ?? 'docs';
  const directory = new XDirectory(now);
  const tokens = new XTokens(now, accessTtlMs);
  const pageTokens = new PageTokens(now, options.pageTokenTtlMs);
  const windows = new FixedWindows(now, {
    windowMs: options.windowMs ?? 15 * 60_000,
    limits: { ...DOCUMENTED_USER_LIMITS, ...options.limits },
  });
  const calls: CallRecord[] = [];
  const failures: (InjectedFailure & { left: number })[] = [];
  const throttles: Injected429[] = [];
  let usageCapped = 0;
  let usageCappedLeft = 0;

  const matches = (want: string | undefined, have: string) => want === undefined || want === have;

  function route(method: string, path: string): { endpoint: string; userId: string } | undefined {
    const m = /^\/2\/users\/([^/]+)(\/tweets)?\/?$/.exec(path);
    if (method !== 'GET' || !m) return undefined;
    return {
      endpoint: m[2] ? X_ENDPOINTS.timeline : X_ENDPOINTS.user,
      userId: decodeURIComponent(m[1]!),
    };
  }

  async function api(req: IncomingMessage, url: URL, record: Partial<CallRecord>): Promise<Answer> {
    const found = route(req.method ?? 'GET', url.pathname);
    if (!found) return problem(NOT_FOUND);
    const { endpoint } = found;
    record.endpoint = endpoint;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const auth = bearer ? tokens.authenticate(bearer) : { ok: false as const };
    const caller = auth.userId ?? 'unauthenticated';
    if (auth.userId) record.userId = auth.userId;

    const pending = throttles.findIndex(
      (t) => matches(t.endpoint, endpoint) && matches(t.userId, caller),
    );
    if (pending >= 0 && auth.ok) {
      windows.exhaust(caller, endpoint, throttles[pending]!.resetInMs ?? 1000);
      throttles.splice(pending, 1);
    }
    const taken = windows.take(caller, endpoint);
    const headers = limitHeaders(taken);
    if (!auth.ok) return problem(UNAUTHORIZED, headers);
    if (!['tweet.read', 'users.read'].every((s) => auth.scopes.includes(s)))
      return problem(FORBIDDEN, headers);
    if (usageCappedLeft > 0) {
      usageCappedLeft -= 1;
      usageCapped += 1;
      return problem(USAGE_CAPPED, headers);
    }
    if (!taken.allowed) return problem(TOO_MANY_REQUESTS, headers);
    const failure = failures.find((f) => f.left > 0 && matches(f.endpoint, endpoint));
    if (failure) {
      failure.left -= 1;
      if (failure.delayMs) await sleep(failure.delayMs);
      return problem(serverError(failure.status), headers);
    }
    return { ...answerApi(endpoint, found.userId, auth.userId, url.searchParams), headers };
  }

  function answerApi(
    endpoint: string,
    userId: string,
    viewerId: string,
    params: URLSearchParams,
  ): Answer {
    const user = directory.get(userId);
    if (endpoint === X_ENDPOINTS.user) {
      const parsed = parseUserQuery(params);
      if (!parsed.ok) return problem(invalidRequest(parsed.errors));
      if (!user) return json(200, { errors: [resourceNotFound('user', userId, 'id')] });
      return json(200, { data: renderUser(user, parsed.fields, fieldNames) });
    }
    const parsed = parseTimelineQuery(params);
    if (!parsed.ok) return problem(invalidRequest(parsed.errors));
    if (!user)
      return json(200, {
        errors: [resourceNotFound('user', userId, 'id')],
        meta: { result_count: 0 },
      });
    const page = timelinePage({
      user,
      query: parsed.query,
      fingerprint: queryFingerprint(params),
      viewerId,
      now: now(),
      tokens: pageTokens,
      fieldNames,
    });
    return json(page.status, page.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.x');
    const method = req.method ?? 'GET';
    const record: Partial<CallRecord> = {};
    let answer: Answer;
    let contentType = 'application/json; charset=utf-8';
    if (method === 'POST' && url.pathname === '/2/oauth2/token') {
      record.endpoint = 'POST /2/oauth2/token';
      const body = await readBody(req);
      answer = tokenEndpoint(
        tokens,
        clients,
        req.headers.authorization,
        req.headers['content-type'],
        body,
        accessTtlMs,
      );
    } else {
      answer = await api(req, url, record);
      if (answer.status >= 400) contentType = 'application/problem+json';
    }
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      ...answer.headers,
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    calls.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: answer.status,
      at: now(),
      ...record,
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify(serverError(500).body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    addUser: (spec) => directory.add(spec),
    addUsers: (count, seed, spec) => directory.addPopulation(count, seed, spec),
    addPost: (userId, fields) => directory.addPost(userId, fields),
    truth: (userId) => directory.require(userId),
    issueToken: (userId, { scopes = DEFAULT_SCOPES, clientId = clients[0]!.id } = {}) => {
      directory.require(userId);
      return tokens.issue(userId, clientId, scopes);
    },
    expire: (accessToken) => tokens.expire(accessToken),
    revoke: (userId) => tokens.revokeUser(userId),
    inject: (failure) => failures.push({ ...failure, left: failure.count ?? 1 }),
    inject429: (throttle = {}) => {
      if (throttle.usageCapped !== undefined) usageCappedLeft += throttle.usageCapped;
      else throttles.push(throttle);
    },
    calls,
    stats: () => {
      const byStatus: Record<string, number> = {};
      for (const c of calls) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
      return { requests: calls.length, byStatus, usageCapped, ...windows.stats() };
    },
  };
}
