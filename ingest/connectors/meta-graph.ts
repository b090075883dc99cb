// What the Facebook Pages and Instagram connectors share (PLATFORMS.md part A): Graph's error
// envelope judged by code (never by HTTP status, which Meta leaves undocumented for throttles),
// the usage headers read as limits, token answers, and the poll itself — a pass over the posts
// newest first, resumed by a time mark rather than a cursor (cursors die with their item), then
// settled daily insights and a daily audience snapshot.
import { z } from 'zod';
import type { EventInput } from '../../schema/event-envelope.ts';
import type {
  ApiResponse,
  Credentials,
  LimitReading,
  PlatformApi,
  PollContext,
  Verdict,
} from './connector.ts';
import { ConnectorError } from './connector.ts';
import { eventIdOf, postIdOf, type SocialPlatform } from './ids.ts';

export const GRAPH_VERSION = 'v25.0';
const DAY = 86_400_000;
/** Meta's documented insights delay: a day is read once it ended more than 48 h ago. */
const SETTLE_MS = 48 * 3_600_000;

// --- protocol ----

export interface MetaProtocolOptions {
  /** `https://graph.instagram.com` or `https://graph.facebook.com`, or the fake's URL. */
  baseUrl: string;
  appId?: string;
  appSecret: string;
  /** Refreshed this long before expiry; tokens last 60 days. */
  refreshAheadMs?: number;
  /** Pause when usage reaches 95 % without an announced regain time. */
  usagePauseMs?: number;
  now?: () => number;
}

export const META_REFRESH_AHEAD_MS = 7 * 86_400_000;
export const META_USAGE_PAUSE_MS = 5 * 60_000;

// --- answers -------------------------------------------------------------------------------

const graphErrorSchema = z.object({
  error: z.object({
    message: z.string().default(''),
    type: z.string().optional(),
    code: z.number(),
    error_subcode: z.number().optional(),
    is_transient: z.boolean().optional(),
  }),
});
export type GraphErrorInfo = z.infer<typeof graphErrorSchema>['error'];

export function graphErrorOf(body: unknown): GraphErrorInfo | undefined {
  const parsed = graphErrorSchema.safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}

/** Long opaque strings (tokens) never reach a message, whatever an answer echoed. */
export function redact(text: string): string {
  return text
    .replace(/(access_token|fb_exchange_token|client_secret)=[^&\s]*/gi, '$1=<redacted>')
    .replace(/\b(?=[A-Za-z0-9_-]*[A-Za-z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{30,}\b/g, '<redacted>');
}

export function describeGraphError(e: GraphErrorInfo): string {
  const code = e.error_subcode === undefined ? `${e.code}` : `${e.code}/${e.error_subcode}`;
  return redact(`Meta error ${code}: ${e.message}`.slice(0, 500));
}

const REVOKED_SUBCODES = new Set([458, 459, 460, 464, 467]);
/** A.8: app, user, Page, custom limits, and the BUC codes 80000–80014. */
const isThrottle = (code: number) =>
  code === 4 || code === 17 || code === 32 || code === 613 || (code >= 80000 && code <= 80014);

export function judgeGraph(res: ApiResponse, now: number): Verdict {
  const error = graphErrorOf(res.body);
  if (res.status >= 200 && res.status < 300 && !error) return { kind: 'ok' };
  if (!error) {
    if (res.status === 429) return { kind: 'throttled', reason: 'HTTP 429' };
    if (res.status >= 500) return { kind: 'transient', reason: `HTTP ${res.status}` };
    return { kind: 'failed', reason: `HTTP ${res.status}` };
  }
  const reason = describeGraphError(error);
  if (error.code === 190 || error.code === 102) {
    const expired =
      error.error_subcode === 463 ||
      (error.error_subcode === undefined && /expired/i.test(error.message));
    if (expired) return { kind: 'expired', reason };
    // 458/459/460/464/467 and a bare "invalid token" alike need the user to connect again.
    const known = REVOKED_SUBCODES.has(error.error_subcode ?? 0);
    return { kind: 'revoked', reason: known ? reason : `${reason} (token no longer valid)` };
  }
  if (isThrottle(error.code)) {
    const regain = usageOf(res).regainMinutes;
    return { kind: 'throttled', reason, ...(regain > 0 && { until: now + regain * 60_000 }) };
  }
  if (error.code === 1 || error.code === 2 || error.is_transient === true || res.status >= 500) {
    return { kind: 'transient', reason };
  }
  return { kind: 'failed', reason };
}

const usageEntry = z
  .object({
    call_count: z.number().optional(),
    total_time: z.number().optional(),
    total_cputime: z.number().optional(),
    estimated_time_to_regain_access: z.number().optional(),
  })
  .loose();

function header(res: ApiResponse, name: string): unknown {
  const raw = res.headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The highest usage percentage and regain time the answer's usage headers carry. */
function usageOf(res: ApiResponse): { percent?: number; regainMinutes: number } {
  const entries: z.infer<typeof usageEntry>[] = [];
  const app = usageEntry.safeParse(header(res, 'x-app-usage'));
  if (app.success) entries.push(app.data);
  const buc = z
    .record(z.string(), z.array(usageEntry))
    .safeParse(header(res, 'x-business-use-case-usage'));
  if (buc.success) for (const list of Object.values(buc.data)) entries.push(...list);
  const percents = entries.flatMap((e) => [e.call_count, e.total_time, e.total_cputime]);
  const known = percents.filter((p): p is number => p !== undefined);
  const regains = entries.map((e) => e.estimated_time_to_regain_access ?? 0);
  return {
    ...(known.length > 0 && { percent: Math.max(...known) }),
    regainMinutes: Math.max(0, ...regains),
  };
}

/** Usage ≥ 95 % (or a regain time) stops calls: Meta extends a block for every call made in it. */
export function readGraphLimits(
  res: ApiResponse,
  now: number,
  pauseMs: number,
): LimitReading | null {
  const { percent, regainMinutes } = usageOf(res);
  if (regainMinutes > 0) {
    return { kind: 'blocked', until: now + regainMinutes * 60_000, usagePercent: percent ?? 100 };
  }
  if (percent === undefined) return null;
  if (percent >= 95) return { kind: 'blocked', until: now + pauseMs, usagePercent: percent };
  return { kind: 'usage', usagePercent: percent };
}

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
});

/** New credentials from a token endpoint's answer, or why the grant is gone. */
export function credentialsFrom(
  res: ApiResponse,
  old: Credentials,
  now: number,
  what: string,
): Credentials {
  const ok = res.status >= 200 && res.status < 300 ? tokenAnswer.safeParse(res.body) : undefined;
  if (ok?.success) {
    return {
      ...old,
      accessToken: ok.data.access_token,
      expiresAt: ok.data.expires_in === undefined ? old.expiresAt : now + ok.data.expires_in * 1000,
    };
  }
  const error = graphErrorOf(res.body);
  const why = error ? describeGraphError(error) : `HTTP ${res.status}`;
  if (res.status >= 500) throw new ConnectorError('failed', `${what}: ${why}`);
  if (error && isThrottle(error.code)) throw new ConnectorError('rate-limited', `${what}: ${why}`);
  throw new ConnectorError('revoked', `${what} refused: ${why}`);
}

/** Reads a successful answer with `schema`; an answer of another shape ends the poll. */
export function answerOf<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConnectorError(
    'failed',
    `${what}: unexpected answer (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
  );
}

export const pagingSchema = z
  .object({
    cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
    next: z.string().optional(),
  })
  .optional();

const bucketValue = z.record(z.string(), z.number());
export const insightEntrySchema = z.object({
  name: z.string(),
  values: z
    .array(z.object({ value: z.union([z.number(), bucketValue]), end_time: z.string().optional() }))
    .optional(),
  total_value: z
    .object({
      value: z.number().optional(),
      breakdowns: z
        .array(
          z.object({
            dimension_keys: z.array(z.string()),
            results: z.array(
              z.object({ dimension_values: z.array(z.string()), value: z.number() }),
            ),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type InsightEntry = z.infer<typeof insightEntrySchema>;
export const insightsSchema = z.object({ data: z.array(insightEntrySchema) });
/** `GET /insights?ids=a,b`: one insights answer per id. */
export const multiInsightsSchema = z.record(z.string(), insightsSchema);

/** A lifetime metric's number, or undefined when Meta has no data (empty, not 0). */
export function lifetimeValue(entry: InsightEntry | undefined): number | undefined {
  const v = entry?.values?.[0]?.value ?? entry?.total_value?.value;
  return typeof v === 'number' ? v : undefined;
}

/** `2019-04-05T07:56:32+0000` (Graph's form) as epoch ms. */
export function graphTimeMs(text: string): number {
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new ConnectorError('failed', `unreadable Graph time ${text}`);
  return ms;
}

export const dayKey = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayStartOf = (ms: number) => Math.floor(ms / DAY) * DAY;

// --- the poll ------------------------------------------------------------------------------

type Metric = Extract<EventInput, { type: 'engagement' }>['metric'];
type MediaType = NonNullable<Extract<EventInput, { type: 'post' }>['mediaType']>;
export type Totals = Partial<Record<Metric, number>>;
export type Audience = Partial<
  Record<'age' | 'gender' | 'country' | 'city', Record<string, number>>
>;

export interface NativePost {
  nativeId: string;
  /** Epoch ms. */
  publishedAt: number;
  content: string;
  url?: string;
  mediaType?: MediaType;
  /** Totals the list answer already carries (like and comment counts). */
  totals: Totals;
}

export interface ProfileReading {
  handle: string;
  displayName: string;
  followers: number;
  following: number;
  postCount: number;
}

/** The Graph reads of one flavour (Pages or Instagram), each a bounded number of calls. */
export interface MetaSource {
  profile(api: PlatformApi, nativeId: string): Promise<ProfileReading>;
  /** One page, newest first, of posts published in [since, until] (Unix seconds). */
  posts(
    api: PlatformApi,
    nativeId: string,
    range: { since: number; until?: number; after?: string; limit: number },
  ): Promise<{ posts: NativePost[]; after?: string; more: boolean }>;
  /** Lifetime totals of a page of posts, batched (each id still counts as a call, A.8). */
  postTotals(api: PlatformApi, posts: NativePost[]): Promise<Map<string, Totals>>;
  /** Account reach and views of whole UTC days (their starts, epoch ms); absent days are omitted. */
  dayInsights(
    api: PlatformApi,
    nativeId: string,
    days: number[],
  ): Promise<{ day: number; metric: 'reach' | 'views'; value: number }[]>;
  /** Follower buckets, or null when Meta withholds them (under 100 followers). */
  audience(api: PlatformApi, nativeId: string, lastSettledDay: number): Promise<Audience | null>;
}

export interface MetaPollSettings {
  /** Posts asked per page (`limit`). */
  pageSize: number;
  /** Posts this recent are read again every poll, so their totals stay fresh. */
  refreshWindowMs: number;
  /** How far back the first poll reads posts. */
  horizonMs: number;
  /** How many settled days the first poll reads account insights for. */
  insightsHorizonDays: number;
  /** Most days of account insights one poll reads. */
  insightDaysPerPoll: number;
  /** Most pages of posts one poll reads; a longer pass goes on in the next poll. */
  maxPagesPerPoll: number;
}

export const DEFAULT_META_POLL: MetaPollSettings = {
  pageSize: 25,
  refreshWindowMs: 7 * DAY,
  horizonMs: 90 * DAY,
  insightsHorizonDays: 28,
  insightDaysPerPoll: 14,
  maxPagesPerPoll: 40,
};

const passSchema = z.object({
  slot: z.number(),
  /** Unix seconds: posts older than this are not read by the pass. */
  stopAt: z.number(),
  /** Unix seconds of the oldest post emitted; the pass resumes with `until` = this. */
  resumeUntil: z.number().optional(),
  /** Unix seconds of the newest post the pass saw. */
  newest: z.number().optional(),
});
const checkpointSchema = z.object({
  pass: passSchema.nullable().default(null),
  newestSeen: z.number().optional(),
  insightsThrough: z.string().optional(),
  audienceOn: z.string().optional(),
});
export type MetaCheckpoint = z.infer<typeof checkpointSchema>;
type Pass = z.infer<typeof passSchema>;

function readCheckpoint(ctx: PollContext): MetaCheckpoint {
  if (ctx.checkpoint === null) return { pass: null };
  const parsed = checkpointSchema.safeParse(ctx.checkpoint);
  if (parsed.success) return parsed.data;
  ctx.logger.warn({ platform: ctx.connection.platform }, 'unreadable checkpoint: polling afresh');
  return { pass: null };
}

const iso = (ms: number) => new Date(ms).toISOString();
const unix = (ms: number) => Math.floor(ms / 1000);

export async function pollMeta(
  ctx: PollContext,
  source: MetaSource,
  settings: MetaPollSettings,
): Promise<void> {
  const { platform, accountId, platformAccountId: nativeId } = ctx.connection;
  let state = readCheckpoint(ctx);
  const started = ctx.now();
  const pass: Pass = state.pass ?? {
    slot: ctx.slot,
    stopAt:
      state.newestSeen === undefined
        ? unix(started - settings.horizonMs)
        : Math.min(state.newestSeen, unix(started - settings.refreshWindowMs)),
  };
  const profile = await source.profile(ctx.api, nativeId);
  let pending: EventInput[] = [
    {
      id: eventIdOf(platform, 'profile', nativeId, pass.slot),
      type: 'profile',
      platform,
      accountId,
      occurredAt: iso(started),
      ...profile,
    },
  ];
  // The range stays as this poll began it while cursors page through it.
  const until = pass.resumeUntil;
  let after: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await source.posts(ctx.api, nativeId, {
      since: pass.stopAt,
      until,
      after,
      limit: settings.pageSize,
    });
    const posts = page.posts.filter((p) => unix(p.publishedAt) >= pass.stopAt);
    const totals =
      posts.length > 0 ? await source.postTotals(ctx.api, posts) : new Map<string, Totals>();
    const observedAt = iso(ctx.now());
    for (const post of posts) {
      pending.push(
        ...postEvents(
          platform,
          accountId,
          post,
          { ...post.totals, ...totals.get(post.nativeId) },
          pass.slot,
          observedAt,
        ),
      );
      const at = unix(post.publishedAt);
      pass.resumeUntil = Math.min(pass.resumeUntil ?? at, at);
      pass.newest = Math.max(pass.newest ?? at, at);
    }
    const done = !page.more || posts.length < page.posts.length;
    state = done
      ? { ...state, pass: null, newestSeen: maxDefined(state.newestSeen, pass.newest) }
      : { ...state, pass: { ...pass } };
    await ctx.emit(pending, state);
    pending = [];
    // Past the bound the pass stays in the checkpoint, resumed by the next poll.
    if (done || pages >= settings.maxPagesPerPoll) break;
    after = page.after;
  }
  state = await readSettledDays(ctx, source, settings, state);
  await readAudience(ctx, source, state);
}

function postEvents(
  platform: SocialPlatform,
  accountId: string,
  post: NativePost,
  totals: Totals,
  slot: number,
  observedAt: string,
): EventInput[] {
  const postId = postIdOf(platform, post.nativeId);
  const events: EventInput[] = [
    {
      id: eventIdOf(platform, 'post', post.nativeId),
      type: 'post',
      action: 'published',
      platform,
      accountId,
      postId,
      content: post.content,
      ...(post.url !== undefined && { url: post.url }),
      ...(post.mediaType !== undefined && { mediaType: post.mediaType }),
      publishedAt: iso(post.publishedAt),
      occurredAt: iso(post.publishedAt),
    },
  ];
  for (const [metric, value] of Object.entries(totals) as [Metric, number | undefined][]) {
    if (value === undefined) continue;
    events.push({
      id: eventIdOf(platform, 'metric', post.nativeId, metric, slot),
      type: 'engagement',
      platform,
      accountId,
      postId,
      metric,
      mode: 'total',
      value,
      occurredAt: observedAt,
    });
  }
  return events;
}

/** Account insights for days not read yet that have settled, each day read once. */
async function readSettledDays(
  ctx: PollContext,
  source: MetaSource,
  settings: MetaPollSettings,
  state: MetaCheckpoint,
): Promise<MetaCheckpoint> {
  const { platform, accountId, platformAccountId: nativeId } = ctx.connection;
  const lastSettled = dayStartOf(ctx.now() - SETTLE_MS) - DAY;
  const from =
    state.insightsThrough === undefined
      ? lastSettled - (settings.insightsHorizonDays - 1) * DAY
      : Date.parse(`${state.insightsThrough}T00:00:00Z`) + DAY;
  if (from > lastSettled) return state;
  const to = Math.min(lastSettled, from + (settings.insightDaysPerPoll - 1) * DAY);
  const days: number[] = [];
  for (let d = from; d <= to; d += DAY) days.push(d);
  const values = await source.dayInsights(ctx.api, nativeId, days);
  const events: EventInput[] = values.map(({ day, metric, value }) => ({
    id: eventIdOf(platform, 'insight', nativeId, metric, dayKey(day)),
    type: 'engagement',
    platform,
    accountId,
    metric,
    mode: 'delta',
    value,
    occurredAt: iso(day),
  }));
  const next = { ...state, insightsThrough: dayKey(to) };
  await ctx.emit(events, next);
  return next;
}

/** One audience snapshot a day at most: demographics move slowly and cost a call per breakdown. */
async function readAudience(ctx: PollContext, source: MetaSource, state: MetaCheckpoint) {
  const { platform, accountId, platformAccountId: nativeId } = ctx.connection;
  const now = ctx.now();
  const today = dayKey(now);
  if (state.audienceOn === today) return;
  const audience = await source.audience(ctx.api, nativeId, dayStartOf(now - SETTLE_MS) - DAY);
  const buckets = Object.fromEntries(
    Object.entries(audience ?? {}).filter(([, b]) => Object.keys(b).length > 0),
  );
  const events: EventInput[] =
    Object.keys(buckets).length > 0
      ? [
          {
            id: eventIdOf(platform, 'audience', nativeId, today),
            type: 'audience',
            platform,
            accountId,
            occurredAt: iso(now),
            ...buckets,
          },
        ]
      : [];
  await ctx.emit(events, { ...state, audienceOn: today });
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
