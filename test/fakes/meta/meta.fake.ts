// A fake of Meta's Graph API (PLATFORMS.md part A) on one node:http server: Facebook Pages and
// Instagram (Instagram Login) under versioned paths, seeded accounts, tokens with their
// documented lifetimes, cursor pages, insights in both shapes, BUC limits with usage headers,
// and faults a test can script. What it leaves out is listed in meta.fake.test.ts's header.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GraphError,
  graphError,
  invalidParameter,
  noToken,
  serverError,
  throttled,
  unknownObject,
} from './meta-errors.ts';
import { igAccountInsights, igMediaInsights, pageInsights, postInsights } from './meta-insights.ts';
import { igMediaNode, igUserNode, pageNode, parseFields, postNode } from './meta-objects.ts';
import { pageOf } from './meta-paging.ts';
import {
  generateAccount,
  type AccountSpec,
  type DayInsights,
  type Demographics,
  type MetaAccount,
  type MetaKind,
  type MetaPost,
} from './meta-seed.ts';
import {
  LONG_LIVED_SECONDS,
  TokenStore,
  type IssueOptions,
  type IssuedToken,
} from './meta-tokens.ts';
import {
  appUsageHeader,
  bucUsageHeader,
  RollingWindow,
  spend,
  type Allowance,
  type UsageReading,
} from './meta-usage.ts';

const DAY = 86_400_000;
const MAX_IDS = 50;
const MEDIA_LIST_CAP = 10_000;

export interface MetaFakeOptions {
  /** The fake's clock (epoch ms): tokens expire and windows roll by it. */
  now?: () => number;
  appId?: string;
  appSecret?: string;
  /** Allowances; by default as A.8 models them (IG 24 h × 4800 × impressions, Pages 1 h). */
  limits?: {
    instagram?: Partial<Allowance>;
    pages?: Partial<Allowance>;
    app?: Partial<Allowance>;
    /** Regain times in exact (fractional) minutes, for tests with windows of seconds. */
    exactRegain?: boolean;
  };
  /** Usage headers are optional in Meta's answers (A.8); false leaves them out. */
  usageHeaders?: boolean;
  /** The status of a throttle answer, undocumented (A.8). */
  throttleStatus?: 400 | 403;
  /** Media younger than this have no insights yet (empty `data`). */
  insightsDelayMs?: number;
}

export type Fault =
  | { status: 500 | 503; count?: number; path?: RegExp }
  | {
      throttle: { code?: number; regainMinutes?: number; status?: 400 | 403 };
      count?: number;
      path?: RegExp;
    };

export interface CallRecord {
  method: string;
  path: string;
  /** Without tokens and secrets. */
  query: Record<string, string>;
  time: number;
  status: number;
  /** Calls this request counted for (each id of a multi-id request is one). */
  counted: number;
}

export interface FakeStats {
  requests: number;
  /** Answers that were throttles (Meta's codes 4/17/32/613/800xx, or a 429). */
  throttled: number;
  byStatus: Record<number, number>;
}

/** What the fake holds for an account, for tests to recount against. */
export interface AccountTruth {
  kind: MetaKind;
  id: string;
  username: string;
  name: string;
  followers: number;
  following: number;
  mediaCount: number;
  /** Visible posts (privacy-filtered ones are never answered), newest first. */
  posts: Omit<MetaPost, 'hidden' | 'accountId'>[];
  hidden: number;
  demographics: Demographics;
  day(dayStart: number): DayInsights;
}

export interface MetaFake {
  url: string;
  appId: string;
  appSecret: string;
  addPage(spec?: AccountSpec): string;
  addInstagramUser(spec?: AccountSpec): string;
  /** Registers `count` accounts without generating them; each is made when first read. */
  addAccounts(kind: MetaKind, count: number, spec?: Omit<AccountSpec, 'id' | 'username'>): string[];
  issueToken(accountId: string, options?: IssueOptions): IssuedToken;
  truth(accountId: string): AccountTruth;
  /** A new post, newest of its account. */
  publish(accountId: string, post?: Partial<Pick<MetaPost, 'caption' | 'counters'>>): MetaPost;
  deletePost(postId: string): void;
  inject(fault: Fault): void;
  expire(token: string): void;
  revoke(accountIdOrToken: string, subcode?: 458 | 460): void;
  /** POSTs a webhook body signed as A.11 describes; resolves with the receiver's status. */
  deliverWebhook(url: string, body: unknown): Promise<number>;
  readonly calls: CallRecord[];
  readonly stats: FakeStats;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const SECRET_PARAMS = new Set(['access_token', 'client_secret', 'fb_exchange_token']);
const THROTTLE_CODES = new Set([4, 17, 32, 613, 80001, 80002]);

interface Registered {
  kind: MetaKind;
  serial: number;
  spec: AccountSpec;
  anchor: number;
}

interface Materialised {
  account: MetaAccount;
  byId: Map<string, MetaPost>;
}

export async function startMetaFake(options: MetaFakeOptions = {}): Promise<MetaFake> {
  const {
    now = Date.now,
    appId = '1234567890',
    appSecret = 'fake-app-secret',
    usageHeaders = true,
    throttleStatus = 400,
    insightsDelayMs = 0,
  } = options;
  const limits = options.limits ?? {};
  const tokens = new TokenStore(now);
  const registered = new Map<string, Registered>();
  const made = new Map<string, Materialised>();
  const windows = new Map<string, RollingWindow>();
  const faults: (Fault & { left: number })[] = [];
  const calls: CallRecord[] = [];
  const stats: FakeStats = { requests: 0, throttled: 0, byStatus: {} };
  let serial = 0;

  function register(kind: MetaKind, spec: AccountSpec = {}): string {
    serial += 1;
    const reg = { kind, serial, spec, anchor: now() };
    const id = spec.id ?? generateAccount(kind, serial, { ...spec, posts: 0 }, reg.anchor).id;
    registered.set(id, reg);
    return id;
  }

  function materialise(accountId: string): Materialised {
    let m = made.get(accountId);
    if (m) return m;
    const reg = registered.get(accountId);
    if (!reg) throw new Error(`meta fake: no account ${accountId}`);
    const account = generateAccount(
      reg.kind,
      reg.serial,
      { ...reg.spec, id: accountId },
      reg.anchor,
    );
    const byId = new Map([...account.posts, ...account.stories].map((p) => [p.id, p]));
    m = { account, byId };
    made.set(accountId, m);
    return m;
  }

  function allowanceOf(kind: MetaKind, account: MetaAccount): Allowance {
    const yesterday = account.day(Math.floor(now() / DAY) * DAY - DAY);
    if (kind === 'instagram') {
      return {
        windowMs: limits.instagram?.windowMs ?? DAY,
        calls: limits.instagram?.calls ?? 4800 * Math.max(1, yesterday.views),
      };
    }
    return {
      windowMs: limits.pages?.windowMs ?? 3_600_000,
      calls: limits.pages?.calls ?? 4800 * Math.max(1, yesterday.accountsEngaged),
    };
  }

  function windowOf(key: string, windowMs: number): RollingWindow {
    let w = windows.get(key);
    if (!w) windows.set(key, (w = new RollingWindow(windowMs)));
    return w;
  }

  /** Counts the call against the account's and the app's allowances; headers for the answer. */
  function meter(account: MetaAccount, counted: number) {
    const exact = limits.exactRegain ?? false;
    const own = allowanceOf(account.kind, account);
    const buc = spend(windowOf(`buc|${account.id}`, own.windowMs), own, now(), counted, exact);
    const app: Allowance = {
      windowMs: limits.app?.windowMs ?? 3_600_000,
      calls: limits.app?.calls ?? 200 * Math.max(1, registered.size),
    };
    const appUsage = spend(windowOf('app', app.windowMs), app, now(), counted, exact);
    return { buc, appUsage, headers: usageHeadersFor(account, buc, appUsage) };
  }

  function usageHeadersFor(
    account: MetaAccount,
    buc: UsageReading,
    app: UsageReading,
  ): Record<string, string> {
    if (!usageHeaders) return {};
    return {
      'x-app-usage': appUsageHeader(app),
      'x-business-use-case-usage': bucUsageHeader(
        account.id,
        account.kind === 'instagram' ? 'instagram' : 'pages',
        buc,
      ),
    };
  }

  function takeFault(path: string): Fault | undefined {
    const at = faults.findIndex((f) => !f.path || f.path.test(path));
    if (at < 0) return undefined;
    const fault = faults[at]!;
    if (--fault.left <= 0) faults.splice(at, 1);
    return fault;
  }

  function bearer(req: IncomingMessage, query: URLSearchParams): string | undefined {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    return match?.[1] ?? query.get('access_token') ?? undefined;
  }

  // --- token endpoints (A.10) ----------------------------------------------------------------

  function tokenAnswer(issued: IssuedToken) {
    return {
      access_token: issued.accessToken,
      token_type: 'bearer',
      expires_in: Math.round((issued.expiresAt - now()) / 1000),
    };
  }

  function refreshEndpoint(query: URLSearchParams): unknown {
    if (query.get('grant_type') !== 'ig_refresh_token') {
      throw invalidParameter('grant_type must be ig_refresh_token');
    }
    const result = tokens.refreshInstagram(query.get('access_token') ?? '');
    if (result instanceof GraphError) throw result;
    return tokenAnswer(result);
  }

  function exchangeEndpoint(query: URLSearchParams): unknown {
    if (query.get('grant_type') !== 'fb_exchange_token') {
      throw invalidParameter('grant_type must be fb_exchange_token');
    }
    if (query.get('client_id') !== appId || query.get('client_secret') !== appSecret) {
      throw graphError(400, 101, 'The client id or secret is not this app');
    }
    const result = tokens.exchangeFacebook(query.get('fb_exchange_token') ?? '');
    if (result instanceof GraphError) throw result;
    return tokenAnswer(result);
  }

  // --- Graph reads ---------------------------------------------------------------------------

  function listOf(
    posts: readonly MetaPost[],
    url: URL,
    render: (p: MetaPost) => Record<string, unknown>,
  ) {
    const q = url.searchParams;
    const since = q.has('since') ? Number(q.get('since')) * 1000 : -Infinity;
    const until = q.has('until') ? Number(q.get('until')) * 1000 : Infinity;
    if (Number.isNaN(since) || Number.isNaN(until))
      throw invalidParameter('since and until are Unix times');
    const inRange = posts.filter((p) => p.createdAt >= since && p.createdAt <= until);
    const limit = Math.min(100, Math.max(1, Number(q.get('limit') ?? 25) || 25));
    return pageOf(
      inRange,
      {
        url,
        limit,
        after: q.get('after') ?? undefined,
        before: q.get('before') ?? undefined,
      },
      render,
    );
  }

  function insightsOf(m: Materialised, objectId: string, q: URLSearchParams) {
    const { account } = m;
    if (objectId === account.id) {
      return account.kind === 'instagram'
        ? igAccountInsights(account, q, now())
        : pageInsights(account, q, now());
    }
    const post = m.byId.get(objectId);
    if (!post) throw unknownObject(objectId);
    return account.kind === 'instagram'
      ? igMediaInsights(post, q, now(), insightsDelayMs)
      : postInsights(post, q, now(), insightsDelayMs);
  }

  function graphRead(m: Materialised, segs: string[], url: URL): unknown {
    const q = url.searchParams;
    const { account } = m;
    const [objectId, edge, ...rest] = segs;
    if (objectId === 'insights' && edge === undefined) {
      const ids = (q.get('ids') ?? '').split(',').filter(Boolean);
      return Object.fromEntries(ids.map((id) => [id, { data: insightsOf(m, id, q) }]));
    }
    if (!objectId || rest.length > 0)
      throw invalidParameter(`Unknown path components: ${url.pathname}`);
    const isAccount = objectId === account.id;
    const post = isAccount ? undefined : m.byId.get(objectId);
    if (!isAccount && !post) throw unknownObject(objectId);
    const fields = (defaults: string[]) => parseFields(q.get('fields'), defaults);
    if (edge === undefined) {
      if (post) {
        return account.kind === 'instagram'
          ? igMediaNode(post, fields(['id']))
          : postNode(post, fields(['created_time', 'message', 'id']));
      }
      return account.kind === 'instagram'
        ? igUserNode(account, fields(['id', 'username']))
        : pageNode(account, fields(['name', 'id']));
    }
    if (edge === 'insights') {
      const data = insightsOf(m, objectId, q);
      return { data, ...(isAccount && data.length > 0 && { paging: insightsPaging(url) }) };
    }
    if (isAccount && account.kind === 'instagram' && edge === 'media') {
      const list = account.posts.slice(0, MEDIA_LIST_CAP);
      return listOf(list, url, (p) => igMediaNode(p, fields(['id'])));
    }
    if (isAccount && account.kind === 'instagram' && edge === 'stories') {
      const live = account.stories.filter((s) => now() - s.createdAt < DAY);
      return listOf(live, url, (p) => igMediaNode(p, fields(['id'])));
    }
    if (isAccount && account.kind === 'page' && (edge === 'published_posts' || edge === 'posts')) {
      const page = listOf(account.posts, url, (p) =>
        postNode(p, fields(['created_time', 'message', 'id'])),
      );
      return q.get('summary') === 'total_count'
        ? { ...page, summary: { total_count: account.posts.length } }
        : page;
    }
    throw invalidParameter(`Unknown path components: /${edge}`);
  }

  /** The neighbouring windows of an insights read, as the sample in A.2 carries them. */
  function insightsPaging(url: URL) {
    const q = url.searchParams;
    const until = Number(q.get('until') ?? Math.floor(now() / 1000));
    const since = Number(q.get('since') ?? until - 86_400);
    const span = Math.max(1, until - since);
    const shifted = (by: number) => {
      const u = new URL(url);
      u.searchParams.set('since', String(since + by));
      u.searchParams.set('until', String(until + by));
      return u.toString();
    };
    return { previous: shifted(-span), next: shifted(span) };
  }

  function graphCall(req: IncomingMessage, url: URL, segs: string[], record: CallRecord) {
    const fault = takeFault(url.pathname);
    if (fault && 'status' in fault) throw serverError(fault.status);
    const token = bearer(req, url.searchParams);
    if (!token) throw noToken();
    const owner = tokens.check(token);
    if (owner instanceof GraphError) throw owner;
    const m = materialise(owner.accountId);
    const ids = url.searchParams.get('ids');
    const counted = ids ? ids.split(',').filter(Boolean).length : 1;
    if (counted > MAX_IDS) throw invalidParameter(`At most ${MAX_IDS} ids per request`);
    record.counted = counted;
    const usage = meter(m.account, counted);
    if (fault && 'throttle' in fault) {
      const regain = fault.throttle.regainMinutes ?? 1;
      const blocked = { ...usage.buc, callCount: 100, regainMinutes: regain, blocked: true };
      const error = throttled(
        fault.throttle.code ?? (m.account.kind === 'instagram' ? 80002 : 80001),
        fault.throttle.status ?? throttleStatus,
      );
      return { error, headers: usageHeadersFor(m.account, blocked, usage.appUsage) };
    }
    if (usage.buc.blocked) {
      const code = m.account.kind === 'instagram' ? 80002 : 80001;
      return { error: throttled(code, throttleStatus), headers: usage.headers };
    }
    if (usage.appUsage.blocked)
      return { error: throttled(4, throttleStatus), headers: usage.headers };
    return { body: graphRead(m, segs, url), headers: usage.headers };
  }

  // --- the server ----------------------------------------------------------------------------

  function answer(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
  ) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', base);
    const segs = url.pathname.split('/').filter(Boolean);
    if (segs[0] && /^v\d+\.\d+$/.test(segs[0])) segs.shift();
    const record: CallRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(
        [...url.searchParams].map(([k, v]) => [k, SECRET_PARAMS.has(k) ? '<redacted>' : v]),
      ),
      time: now(),
      status: 0,
      counted: 0,
    };
    calls.push(record);
    stats.requests += 1;
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      if (req.method !== 'GET') throw invalidParameter('The fake answers GET only');
      if (segs.length === 1 && segs[0] === 'refresh_access_token')
        body = refreshEndpoint(url.searchParams);
      else if (segs[0] === 'oauth' && segs[1] === 'access_token')
        body = exchangeEndpoint(url.searchParams);
      else {
        const out = graphCall(req, url, segs, record);
        headers = out.headers;
        if (out.error) throw out.error;
        body = out.body;
      }
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      status = error.status;
      body = error.body;
      if (THROTTLE_CODES.has(error.body.error.code) || status === 429) stats.throttled += 1;
    }
    record.status = status;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    answer(res, status, body, headers);
  }

  const server = createServer((req, res) => {
    // Requests have no body worth reading; drain it so keep-alive works.
    req.resume();
    req.on('end', () => {
      try {
        handle(req, res);
      } catch (error) {
        answer(res, 500, { error: { message: String(error), type: 'FakeBug', code: -1 } }, {});
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });

  return {
    url: base,
    appId,
    appSecret,
    addPage: (spec) => register('page', spec),
    addInstagramUser: (spec) => register('instagram', spec),
    addAccounts: (kind, count, spec = {}) =>
      Array.from({ length: count }, () => register(kind, { ...spec })),
    issueToken: (accountId, issue) => {
      if (!registered.has(accountId)) throw new Error(`meta fake: no account ${accountId}`);
      return tokens.issue(accountId, issue);
    },
    truth: (accountId) => {
      const { account } = materialise(accountId);
      return {
        kind: account.kind,
        id: account.id,
        username: account.username,
        name: account.name,
        followers: account.followers,
        following: account.following,
        mediaCount: account.posts.length,
        posts: account.posts
          .filter((p) => !p.hidden)
          .map(({ hidden: _h, accountId: _a, ...p }) => p),
        hidden: account.posts.filter((p) => p.hidden).length,
        demographics: account.demographics,
        day: (dayStart) => account.day(dayStart),
      };
    },
    publish: (accountId, partial = {}) => {
      const m = materialise(accountId);
      const newest = m.account.posts[0];
      const template = newest ?? generateAccount(m.account.kind, 0, { posts: 1 }, now()).posts[0]!;
      const n = m.account.posts.length + m.account.stories.length;
      const id =
        m.account.kind === 'page'
          ? `${m.account.id}_${8_000_000 + n}`
          : `178${m.account.id.slice(-7)}${n}`;
      const post: MetaPost = {
        ...template,
        id,
        accountId,
        hidden: false,
        createdAt: Math.floor(now() / 1000) * 1000,
        caption: partial.caption ?? `Fresh post ${n}`,
        counters: partial.counters ?? { ...template.counters },
      };
      m.account.posts.unshift(post);
      m.byId.set(id, post);
      return post;
    },
    deletePost: (postId) => {
      for (const m of made.values()) {
        const at = m.account.posts.findIndex((p) => p.id === postId);
        if (at >= 0) {
          m.account.posts.splice(at, 1);
          m.byId.delete(postId);
        }
      }
    },
    inject: (fault) => faults.push({ ...fault, left: fault.count ?? 1 }),
    expire: (token) => tokens.expire(token),
    revoke: (accountIdOrToken, subcode) => tokens.revoke(accountIdOrToken, subcode),
    deliverWebhook: async (url, body) => {
      const raw = JSON.stringify(body);
      const signature = createHmac('sha256', appSecret).update(raw).digest('hex');
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${signature}`,
        },
        body: raw,
      });
      await res.arrayBuffer();
      return res.status;
    },
    calls,
    stats,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export { LONG_LIVED_SECONDS };
export type { AccountSpec, IssuedToken };
