// Loupe's demo data: a seeded, deterministic history of a coffee chain and its rivals on four
// social platforms plus its app, and a live trickle that continues it. Same seed and `now`, same
// events with the same ids, so loading twice changes nothing.
import type { EventInput } from '../../schema/event-envelope.ts';
import {
  APP_ACCOUNT_ID,
  DEFAULT_SEED,
  MAIN_BRAND,
  PLATFORM_PROFILES,
  demoAccounts,
  type DemoAccount,
  type SocialPlatform,
} from './demo-accounts.ts';
import {
  SESSIONS_BY_WEEKDAY,
  appSession,
  appUsers,
  liveAppEvent,
  liveAppRate,
  sessionHour,
  type AppUserPool,
} from './demo-app.ts';
import { audienceSnapshot } from './demo-audience.ts';
import {
  CLICK_WEBHOOK_HOURS,
  DAY,
  HOUR,
  MINUTE,
  POLLS,
  accountModels,
  iso,
  localDayOf,
  localDayStart,
  metricsOf,
  postsOfDay,
  reachedAt,
  totalAt,
  weekdayOf,
  ymd,
  type AccountModel,
  type DemoPost,
} from './demo-posts.ts';
import { chance, intBetween, normal, pick, poisson, rngFor, type Rng } from './demo-random.ts';
import {
  apologyCaption,
  authorHandle,
  commentText,
  mentionText,
  sentimentOf,
} from './demo-texts.ts';

export { demoAccounts, type DemoAccount } from './demo-accounts.ts';

export const MAX_BATCH_SIZE = 5000;

export interface DemoHistoryOptions {
  /** End of the history, in ms since the epoch: every event happens before it. */
  now: number;
  /** How many days of history to produce before `now`. */
  days?: number;
  /** Seed of every random choice: the same seed and `now` give the same events and ids. */
  seed?: number;
  /** Events per batch, at most 5,000. */
  batchSize?: number;
}

export interface DemoHistory {
  accounts: DemoAccount[];
  /** Time-ordered chunks; generated lazily, and again on every iteration. */
  batches: Iterable<EventInput[]>;
}

/** Where the story has its moments, in local days before `now`. */
const OUTAGE_DAYS_AGO = 19;
const OUTAGE_HOURS: readonly [number, number] = [7, 12.5];
/** One rebrand, so profile history has a handle change: the old handle until that day. */
export const HANDLE_CHANGE = {
  accountId: `ig-${MAIN_BRAND}`,
  previous: 'northwind.coffee.co',
  daysAgo: 30,
} as const;
const VIRAL_PLANS: readonly { accountId: string; daysAgo: number; factor: number }[] = [
  { accountId: 'tt-northwind', daysAgo: 33, factor: 40 },
  { accountId: 'ig-bluebird', daysAgo: 61, factor: 25 },
  { accountId: 'x-rival-brew', daysAgo: 12, factor: 15 },
];
/** Where mentions of a brand happen. */
const MENTION_SHARE: Record<SocialPlatform, number> = {
  x: 0.5,
  instagram: 0.25,
  tiktok: 0.15,
  facebook: 0.1,
};
/** Outage-day complaints per platform, on top of the usual mentions. */
const OUTAGE_MENTIONS: Record<SocialPlatform, number> = {
  x: 90,
  instagram: 25,
  facebook: 15,
  tiktok: 10,
};
const APP_SESSIONS_PER_DAY = 300;

type Timed = { at: number; event: EventInput };

export function generateDemoHistory(options: DemoHistoryOptions): DemoHistory {
  const { now, days = 90, seed = DEFAULT_SEED, batchSize = MAX_BATCH_SIZE } = options;
  if (!Number.isFinite(now)) throw new RangeError('now must be a time in ms');
  if (!(days > 0)) throw new RangeError('days must be positive');
  if (!(batchSize >= 1 && batchSize <= MAX_BATCH_SIZE)) {
    throw new RangeError(`batchSize must be within 1..${MAX_BATCH_SIZE}`);
  }
  const accounts = demoAccounts(seed);
  return {
    accounts,
    batches: { [Symbol.iterator]: () => historyBatches(accounts, now, days, seed, batchSize) },
  };
}

/** Collects the window's events by local day, so each day goes out in time order once complete. */
class HistoryWriter {
  private readonly buckets = new Map<number, Timed[]>();

  constructor(
    readonly start: number,
    readonly now: number,
  ) {}

  /** Keeps an event when it falls in the window, in the bucket of its local day. */
  add(at: number, event: EventInput): void {
    if (at < this.start || at >= this.now) return;
    const day = localDayOf(at);
    let bucket = this.buckets.get(day);
    if (!bucket) this.buckets.set(day, (bucket = []));
    bucket.push({ at, event });
  }

  /** A day's events in time order; nothing born later can still land on it. */
  take(day: number): readonly Timed[] {
    const bucket = this.buckets.get(day) ?? [];
    this.buckets.delete(day);
    return bucket.sort((a, b) => a.at - b.at);
  }
}

interface AccountState {
  followers: number;
  following: number;
  postCount: number;
  growth: number;
  /** Followers a viral post brings the next day. */
  bump: number;
}

function* historyBatches(
  accounts: readonly DemoAccount[],
  now: number,
  days: number,
  seed: number,
  batchSize: number,
): Generator<EventInput[]> {
  const start = now - days * DAY;
  const firstDay = localDayOf(start);
  const lastDay = localDayOf(now);
  const outageDay = lastDay - OUTAGE_DAYS_AGO;
  const renameDay = lastDay - HANDLE_CHANGE.daysAgo;
  const out = new HistoryWriter(start, now);
  const models = accountModels(accounts);
  const users = appUsers(seed);
  /** App users who had a session so far: the first one sets their first-seen properties. */
  const seen = new Set<string>();
  const states = new Map<string, AccountState>(
    models.map((m) => [m.account.id, initialState(seed, m, days)]),
  );
  /** Northwind's recent posts, which app sessions can open from a social link. */
  let ownRecent: DemoPost[] = [];
  /** Posts young enough to be read by the poller or to get click webhooks. */
  let reading: Polled[] = [];
  const lastRead = Math.max(POLLS[POLLS.length - 1]?.after ?? 0, CLICK_WEBHOOK_HOURS * HOUR) + HOUR;

  let chunk: EventInput[] = [];
  for (let day = firstDay; day <= lastDay; day++) {
    const dayStart = localDayStart(day);
    ownRecent = ownRecent.filter((p) => p.publishedAt > dayStart - 3 * DAY);
    reading = reading.filter((r) => r.post.publishedAt > dayStart - lastRead);
    for (const model of models) {
      const state = states.get(model.account.id);
      if (!state) continue;
      const posts = plannedPosts(seed, model, day, lastDay).filter(
        (p) => p.publishedAt >= start && p.publishedAt < now,
      );
      for (const post of posts) {
        writePost(out, seed, post, day === outageDay && model.brand.key === MAIN_BRAND);
        reading.push(polled(seed, post));
        if (model.brand.key === MAIN_BRAND) ownRecent.push(post);
        if (post.viral) state.bump += 0.004 * audienceOf(post);
      }
      state.postCount += posts.length;
      const renamed = model.account.id !== HANDLE_CHANGE.accountId || day >= renameDay;
      writeProfile(out, seed, model, state, day, day === outageDay, renamed);
      writeAudience(out, seed, model, day);
      writeMentions(out, seed, model, day, day === outageDay);
    }
    writeAppDay(out, seed, { users, seen }, day, day - firstDay, day === outageDay, ownRecent);
    for (const r of reading) writeReads(out, r, dayStart, localDayStart(day + 1));
    for (const { event } of out.take(day)) {
      chunk.push(event);
      if (chunk.length >= batchSize) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

function initialState(seed: number, model: AccountModel, days: number): AccountState {
  const rng = rngFor(seed, `${model.account.id}|profile`);
  const profile = PLATFORM_PROFILES[model.platform];
  const growth = profile.growth * model.brand.momentum;
  return {
    // Grows back to today's figure by the end of the window.
    followers: model.followers * Math.exp(-growth * days),
    following: intBetween(rng, ...profile.following),
    postCount: Math.round(intBetween(rng, ...profile.priorPosts) * model.brand.activity),
    growth,
    bump: 0,
  };
}

/** The day's posts, with the history's own moments: viral outliers and the outage apology. */
function plannedPosts(seed: number, model: AccountModel, day: number, lastDay: number): DemoPost[] {
  const plan = VIRAL_PLANS.find(
    (v) => v.accountId === model.account.id && lastDay - v.daysAgo === day,
  );
  const posts = plan
    ? postsOfDay(seed, model, day, { endDay: lastDay, minCount: 1, viral: plan.factor })
    : postsOfDay(seed, model, day, { endDay: lastDay });
  if (model.account.id === `x-${MAIN_BRAND}` && day === lastDay - OUTAGE_DAYS_AGO) {
    const [apology] = postsOfDay(seed, model, day, { endDay: lastDay, minCount: 1 });
    if (apology) {
      posts.push({
        ...apology,
        id: `${model.account.id}-${ymd(day)}-apology`,
        publishedAt: localDayStart(day) + OUTAGE_HOURS[1] * HOUR + 20 * MINUTE,
        mediaType: 'text',
        content: apologyCaption(model.brand),
        url: `https://x.example/${model.account.handle}/posts/apology-${ymd(day)}`,
        clicks: 0,
        edit: undefined,
      });
      posts.sort((a, b) => a.publishedAt - b.publishedAt);
    }
  }
  return posts;
}

function audienceOf(post: DemoPost): number {
  return post.finals.views ?? post.finals.reach ?? post.finals.impressions ?? 0;
}

function common(model: AccountModel, id: string, at: number) {
  return { id, platform: model.platform, accountId: model.account.id, occurredAt: iso(at) };
}

/** What happens once when a post goes out: published (maybe edited), and its comments. */
function writePost(out: HistoryWriter, seed: number, post: DemoPost, outage: boolean): void {
  const { model } = post;
  const publishedAt = iso(post.publishedAt);
  const postEvent = (action: 'published' | 'updated', at: number, content: string) => ({
    ...common(model, `${post.id}:${action}`, at),
    type: 'post' as const,
    action,
    postId: post.id,
    content,
    url: post.url,
    mediaType: post.mediaType,
    publishedAt,
  });
  out.add(post.publishedAt, postEvent('published', post.publishedAt, post.content));
  if (post.edit) out.add(post.edit.at, postEvent('updated', post.edit.at, post.edit.content));

  const rng = rngFor(seed, `${post.id}|comments`);
  const comments = Math.min(12, poisson(rng, 0.8 * Math.log1p(post.finals.comments ?? 0)));
  for (let j = 1; j <= comments; j++) {
    // Comments follow the post's own burst.
    const at = post.publishedAt + Math.round(-Math.log(1 - rng()) * post.fastHours * HOUR);
    const sentiment = sentimentOf(rng, 'comment', outage);
    out.add(at, {
      ...common(model, `${post.id}:c${j}`, at),
      type: 'comment',
      kind: 'comment',
      commentId: `${post.id}:c${j}`,
      postId: post.id,
      authorHandle: authorHandle(rng),
      text: commentText(rng, model.brand, sentiment, outage),
    });
  }
}

/** A post the poller still reads, with its poller's latency. */
interface Polled {
  post: DemoPost;
  lag: number;
}

function polled(seed: number, post: DemoPost): Polled {
  // Each read lands a little after its schedule.
  return { post, lag: intBetween(rngFor(seed, `${post.id}|poller`), 20_000, 240_000) };
}

/**
 * The API reads and click webhooks of a post that fall in [from, to). Made a day at a time rather
 * than at publication, so two weeks of future reads never sit in memory.
 */
function writeReads(out: HistoryWriter, { post, lag }: Polled, from: number, to: number): void {
  const { platform, account } = post.model;
  const metrics = metricsOf(post);
  for (const poll of POLLS) {
    const at = post.publishedAt + poll.after + lag;
    if (at < from) continue;
    if (at >= to) break;
    const occurredAt = iso(at);
    const reached = reachedAt(post, at);
    // Literal objects, not spreads: this loop makes most of the history's events.
    for (const metric of metrics) {
      out.add(at, {
        id: `${post.id}:${metric}:${poll.label}`,
        type: 'engagement',
        platform,
        accountId: account.id,
        occurredAt,
        metric,
        postId: post.id,
        mode: 'total',
        value: totalAt(post.finals[metric] ?? 0, reached),
      });
    }
  }
  if (post.clicks === 0) return;
  const clicksBy = (hour: number) =>
    totalAt(post.clicks, reachedAt(post, post.publishedAt + hour * HOUR - 30_000));
  for (let hour = 1; hour <= CLICK_WEBHOOK_HOURS; hour++) {
    const at = post.publishedAt + hour * HOUR - 30_000;
    if (at < from) continue;
    if (at >= to) break;
    // A webhook batch per hour with the clicks of that hour, when there were any.
    const value = clicksBy(hour) - clicksBy(hour - 1);
    if (value <= 0) continue;
    out.add(at, {
      ...common(post.model, `${post.id}:clicks:w${String(hour).padStart(2, '0')}`, at),
      type: 'engagement',
      metric: 'clicks',
      postId: post.id,
      mode: 'delta',
      value,
    });
  }
}

/** End-of-day profile read: followers drift upwards with noise, post count follows the posts. */
function writeProfile(
  out: HistoryWriter,
  seed: number,
  model: AccountModel,
  state: AccountState,
  day: number,
  outage: boolean,
  renamed: boolean,
): void {
  const rng = rngFor(seed, `${model.account.id}|profile|${day}`);
  state.followers = state.followers * (1 + state.growth + 0.0012 * normal(rng)) + state.bump;
  // An outage costs the brand some followers.
  if (outage) state.followers *= 0.998;
  state.bump = 0;
  if (chance(rng, 0.1)) state.following = Math.max(0, state.following + intBetween(rng, -2, 3));
  const at = localDayStart(day + 1) - MINUTE;
  out.add(at, {
    ...common(model, `${model.account.id}:${ymd(day)}:profile`, at),
    type: 'profile',
    handle: renamed ? model.account.handle : HANDLE_CHANGE.previous,
    displayName: model.account.displayName,
    followers: Math.max(0, Math.round(state.followers)),
    following: state.following,
    postCount: state.postCount,
  });
}

function writeAudience(out: HistoryWriter, seed: number, model: AccountModel, day: number): void {
  const rng = rngFor(seed, `${model.account.id}|audience|${day}`);
  const at = localDayStart(day) + 6 * HOUR + intBetween(rng, 0, 30 * MINUTE);
  const id = `${model.account.id}:${ymd(day)}:audience`;
  out.add(at, audienceSnapshot(rng, common(model, id, at), model.platform, model.brand));
}

/** A time of day for something people do: the app's daily cycle. */
function timeOfDay(rng: Rng, day: number): number {
  const hour = sessionHour(rng);
  return localDayStart(day) + hour * HOUR + Math.floor(rng() * HOUR);
}

function writeMentions(
  out: HistoryWriter,
  seed: number,
  model: AccountModel,
  day: number,
  outage: boolean,
): void {
  const { brand, platform } = model;
  const rng = rngFor(seed, `${model.account.id}|mentions|${day}`);
  const usual = poisson(rng, brand.mentionsPerDay * MENTION_SHARE[platform]);
  const mention = (id: string, at: number, angry: boolean) => {
    out.add(at, {
      ...common(model, id, at),
      type: 'comment',
      kind: 'mention',
      commentId: id,
      authorHandle: authorHandle(rng),
      text: mentionText(rng, brand, sentimentOf(rng, 'mention', angry), angry),
    });
  };
  for (let j = 1; j <= usual; j++) {
    mention(`${model.account.id}:${ymd(day)}:m${j}`, timeOfDay(rng, day), false);
  }
  if (!outage || brand.key !== MAIN_BRAND) return;
  const [from, to] = OUTAGE_HOURS;
  for (let j = 1; j <= OUTAGE_MENTIONS[platform]; j++) {
    // Complaints start with the outage and trail off into the afternoon.
    const at =
      localDayStart(day) + (from + Math.min(to - from + 4, -Math.log(1 - rng()) * 2.5)) * HOUR;
    mention(`${model.account.id}:${ymd(day)}:outage${j}`, Math.round(at), true);
  }
}

function writeAppDay(
  out: HistoryWriter,
  seed: number,
  app: { users: AppUserPool; seen: Set<string> },
  day: number,
  dayIndex: number,
  outageDay: boolean,
  ownRecent: readonly DemoPost[],
): void {
  const rng = rngFor(seed, `${APP_ACCOUNT_ID}|${day}`);
  // The app grows a little every day.
  const mean =
    APP_SESSIONS_PER_DAY * (SESSIONS_BY_WEEKDAY[weekdayOf(day)] ?? 1) * (1 + 0.002 * dayIndex);
  // In time order, so a user's first session is the one that sets their first-seen properties.
  const starts = Array.from({ length: poisson(rng, mean) }, () => timeOfDay(rng, day))
    .filter((at) => at >= out.start)
    .sort((a, b) => a - b);
  const [from, to] = OUTAGE_HOURS;
  const stamp = ymd(day);
  starts.forEach((start, i) => {
    const hour = (start - localDayStart(day)) / HOUR;
    const linked = ownRecent.filter((p) => p.publishedAt < start);
    const post = linked.length > 0 ? pick(rng, linked) : undefined;
    appSession(
      rng,
      {
        key: `${APP_ACCOUNT_ID}:${stamp}:s${i + 1}`,
        start,
        users: app.users,
        seen: app.seen,
        outage: outageDay && hour >= from && hour < to,
        ...(post
          ? {
              socialPost: {
                postId: post.id,
                platform: post.model.platform,
                content: post.content,
              },
            }
          : {}),
      },
      (at, event) => out.add(at, event),
    );
  });
}

/**
 * A live trickle continuing the history: posts going out on schedule, click webhooks and refreshed
 * totals on the last two days' posts, app events on the daily cycle, now and then a comment or
 * mention. Call it about once a second; a call depends only on the seed and `now`, apart from
 * which scheduled posts it has already published.
 */
export function demoTraffic(seed = DEFAULT_SEED): (now: number) => EventInput[] {
  const models = accountModels(demoAccounts(seed));
  const users = appUsers(seed);
  const schedule = new Map<string, DemoPost[]>();
  let last: number | undefined;

  // Campaigns run relative to today, as the history loaded today sees them.
  const postsOn = (model: AccountModel, day: number, today: number) => {
    const key = `${model.account.id}|${day}`;
    let posts = schedule.get(key);
    if (!posts) schedule.set(key, (posts = postsOfDay(seed, model, day, { endDay: today })));
    return posts;
  };

  return (now) => {
    // Posts that went out since the previous call (bounded, should calls pause).
    const since = last === undefined ? now - 1000 : Math.max(last, now - 5000);
    last = Math.max(last ?? now, now);
    const today = localDayOf(now);
    for (const key of schedule.keys()) {
      if (Number(key.split('|')[1]) < today - 3) schedule.delete(key);
    }
    const recent: DemoPost[] = [];
    const events: EventInput[] = [];
    for (const model of models) {
      for (let day = today - 2; day <= today; day++) {
        for (const post of postsOn(model, day, today)) {
          if (post.publishedAt > now || post.publishedAt < now - 2 * DAY) continue;
          recent.push(post);
          if (post.publishedAt > since) {
            events.push({
              ...common(model, `${post.id}:published`, post.publishedAt),
              type: 'post',
              action: 'published',
              postId: post.id,
              content: post.content,
              url: post.url,
              mediaType: post.mediaType,
              publishedAt: iso(post.publishedAt),
            });
          }
        }
      }
    }

    const rng = rngFor(seed, `traffic|${now}`);
    let n = 0;
    const nextId = () => `live:${now}:${++n}`;
    const justNow = () => now - intBetween(rng, 0, 900);

    const clickable = recent.filter((p) => p.clicks > 0);
    if (clickable.length > 0 && chance(rng, 0.6)) {
      const post = pick(rng, clickable);
      events.push({
        ...common(post.model, nextId(), justNow()),
        type: 'engagement',
        metric: 'clicks',
        postId: post.id,
        mode: 'delta',
        value: chance(rng, 0.8) ? 1 : intBetween(rng, 2, 4),
      });
    }

    const localHour = Math.floor((now - localDayStart(today)) / HOUR);
    const appEvents = poisson(rng, liveAppRate(localHour));
    for (let i = 0; i < appEvents; i++) events.push(liveAppEvent(rng, nextId(), justNow(), users));

    if (recent.length > 0 && chance(rng, 0.12)) {
      // One poll of one post: every metric its API reports, read at the same instant.
      const post = pick(rng, recent);
      const at = justNow();
      const reached = reachedAt(post, at);
      for (const metric of metricsOf(post)) {
        events.push({
          ...common(post.model, nextId(), at),
          type: 'engagement',
          metric,
          postId: post.id,
          mode: 'total',
          value: totalAt(post.finals[metric] ?? 0, reached),
        });
      }
    }

    if (recent.length > 0 && chance(rng, 0.05)) {
      const post = pick(rng, recent);
      const id = nextId();
      events.push({
        ...common(post.model, id, justNow()),
        type: 'comment',
        kind: 'comment',
        commentId: `${post.id}:${id}`,
        postId: post.id,
        authorHandle: authorHandle(rng),
        text: commentText(rng, post.model.brand, sentimentOf(rng, 'comment', false), false),
      });
    }

    if (chance(rng, 0.03)) {
      const model = pick(rng, models);
      const id = nextId();
      events.push({
        ...common(model, id, justNow()),
        type: 'comment',
        kind: 'mention',
        commentId: id,
        authorHandle: authorHandle(rng),
        text: mentionText(rng, model.brand, sentimentOf(rng, 'mention', false), false),
      });
    }
    return events;
  };
}
