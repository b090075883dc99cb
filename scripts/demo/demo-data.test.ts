import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeIssues, eventInputSchema, type EventInput } from '../../schema/event-envelope.ts';
import {
  demoAccounts,
  demoTraffic,
  generateDemoHistory,
  HANDLE_CHANGE,
  MAX_BATCH_SIZE,
} from './demo-data.ts';

const DAY = 86_400_000;
// An odd instant, so nothing lines up with day or hour boundaries by luck.
const NOW = Date.UTC(2025, 10, 20, 15, 30, 12, 345);
const SEED = 7;

function digest(batches: Iterable<EventInput[]>): string {
  const hash = createHash('sha256');
  for (const chunk of batches) hash.update(JSON.stringify(chunk));
  return hash.digest('hex');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

type Of<T extends EventInput['type']> = Extract<EventInput, { type: T }>;

let chunks: EventInput[][];
let events: EventInput[];
const ofType = <T extends EventInput['type']>(type: T) =>
  events.filter((e): e is Of<T> => e.type === type);

beforeAll(() => {
  chunks = [...generateDemoHistory({ now: NOW, seed: SEED }).batches];
  events = chunks.flat();
});

describe('demo history', () => {
  it('validates every event against the envelope schema', () => {
    const problems: string[] = [];
    for (const event of events) {
      const parsed = eventInputSchema.safeParse(event);
      if (!parsed.success && problems.length < 5) {
        problems.push(`${event.id}: ${describeIssues(parsed.error)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every event, post and comment a unique id', () => {
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const comments = ofType('comment').map((c) => c.commentId);
    expect(new Set(comments).size).toBe(comments.length);
    const posts = ofType('post').filter((p) => p.action === 'published');
    expect(new Set(posts.map((p) => p.postId)).size).toBe(posts.length);
    // Texts share one id space in search: a comment id never equals a post id.
    const postIds = new Set(posts.map((p) => p.postId));
    expect(comments.filter((id) => postIds.has(id))).toEqual([]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = digest(generateDemoHistory({ now: NOW, seed: SEED }).batches);
    expect(again).toBe(digest(chunks));
    // Batches are lazy: the first one of another seed is enough to tell them apart.
    const [other] = generateDemoHistory({ now: NOW, seed: SEED + 1 }).batches;
    expect(digest([other ?? []])).not.toBe(digest(chunks.slice(0, 1)));
    expect(demoAccounts(SEED)).toEqual(demoAccounts(SEED));
  });

  it('stays within volume bounds, in time order, inside the window', () => {
    expect(events.length).toBeGreaterThanOrEqual(200_000);
    expect(events.length).toBeLessThanOrEqual(400_000);
    expect(chunks.every((c) => c.length > 0 && c.length <= MAX_BATCH_SIZE)).toBe(true);
    let previous = NOW - 90 * DAY;
    let misplaced = 0;
    for (const e of events) {
      const at = Date.parse(e.occurredAt);
      if (at < previous || at >= NOW) misplaced++;
      previous = at;
    }
    expect(misplaced).toBe(0);
    const types = new Set(events.map((e) => e.type));
    expect([...types].sort()).toEqual([
      'app',
      'audience',
      'comment',
      'engagement',
      'post',
      'profile',
    ]);
    const modes = new Set(ofType('engagement').map((e) => e.mode));
    expect(modes).toEqual(new Set(['delta', 'total']));
    expect(ofType('post').some((p) => p.action === 'updated')).toBe(true);
  });

  it('covers every account: social accounts post, and are profiled with their audience daily', () => {
    const accounts = demoAccounts(SEED);
    expect(accounts).toHaveLength(25);
    for (const account of accounts.filter((a) => a.platform !== 'app')) {
      const mine = events.filter((e) => e.accountId === account.id);
      expect(mine.filter((e) => e.type === 'post').length).toBeGreaterThan(3);
      expect(mine.filter((e) => e.type === 'profile').length).toBeGreaterThanOrEqual(89);
      expect(mine.filter((e) => e.type === 'audience').length).toBeGreaterThanOrEqual(89);
    }
    expect(ofType('app').every((e) => e.accountId === 'app-northwind')).toBe(true);
  });

  it('never lowers a lifetime total of a post metric as event time advances', () => {
    const last = new Map<string, number>();
    let decreases = 0;
    for (const e of ofType('engagement')) {
      if (e.mode !== 'total') continue;
      const key = `${e.postId}|${e.metric}`;
      if (e.value < (last.get(key) ?? 0)) decreases++;
      last.set(key, e.value);
    }
    expect(last.size).toBeGreaterThan(1000);
    expect(decreases).toBe(0);
  });

  it('earns most engagement in the first 48 hours, and TikTok views dwarf likes', () => {
    const at = new Map<string, Map<string, number>>();
    for (const e of ofType('engagement')) {
      if (e.mode !== 'total' || e.metric !== 'likes') continue;
      const poll = e.id.slice(e.id.lastIndexOf(':') + 1);
      const polls = at.get(e.postId ?? '') ?? new Map<string, number>();
      polls.set(poll, e.value);
      at.set(e.postId ?? '', polls);
    }
    const shares = [...at.values()]
      .filter((p) => (p.get('d14') ?? 0) >= 20)
      .map((p) => (p.get('d02') ?? 0) / (p.get('d14') ?? 1));
    expect(shares.length).toBeGreaterThan(200);
    expect(median(shares)).toBeGreaterThan(0.6);

    const tiktok = ofType('engagement').filter(
      (e) => e.platform === 'tiktok' && e.mode === 'total',
    );
    const sum = (metric: string) =>
      tiktok.filter((e) => e.metric === metric).reduce((s, e) => s + e.value, 0);
    expect(sum('views')).toBeGreaterThan(10 * sum('likes'));
  });

  it('has a couple of viral outliers', () => {
    // The largest final audience figure of each post, compared with its account's median.
    const best = new Map<string, { account: string; value: number }>();
    for (const e of ofType('engagement')) {
      if (e.mode !== 'total' || !['views', 'reach', 'impressions'].includes(e.metric)) continue;
      const key = e.postId ?? '';
      if ((best.get(key)?.value ?? -1) < e.value)
        best.set(key, { account: e.accountId, value: e.value });
    }
    const byAccount = new Map<string, number[]>();
    for (const { account, value } of best.values()) {
      byAccount.set(account, [...(byAccount.get(account) ?? []), value]);
    }
    const outliers = [...best.values()].filter(
      (p) => p.value > 12 * median(byAccount.get(p.account) ?? []),
    );
    expect(outliers.length).toBeGreaterThanOrEqual(2);
  });

  it('skews follower counts over orders of magnitude and counts posts in the profile', () => {
    const latest = new Map<string, Of<'profile'>>();
    const first = new Map<string, Of<'profile'>>();
    for (const p of ofType('profile')) {
      if (!first.has(p.accountId)) first.set(p.accountId, p);
      latest.set(p.accountId, p);
    }
    const followers = [...latest.values()].map((p) => p.followers);
    expect(Math.max(...followers)).toBeGreaterThanOrEqual(20 * Math.min(...followers));

    const published = ofType('post').filter((p) => p.action === 'published');
    for (const [accountId, end] of latest) {
      const begin = first.get(accountId);
      if (!begin) throw new Error('no first profile');
      const between = published.filter(
        (p) =>
          p.accountId === accountId &&
          p.publishedAt > begin.occurredAt &&
          p.publishedAt <= end.occurredAt,
      ).length;
      expect(end.postCount - begin.postCount, accountId).toBe(between);
    }
  });

  it('changes one handle once, HANDLE_CHANGE.daysAgo days ago, to the tracked one', () => {
    const handles = ofType('profile')
      .filter((p) => p.accountId === HANDLE_CHANGE.accountId)
      .map((p) => p.handle);
    const changes = handles.filter((h, i) => i > 0 && h !== handles[i - 1]);
    expect(changes).toEqual([
      demoAccounts(SEED).find((a) => a.id === HANDLE_CHANGE.accountId)?.handle,
    ]);
    expect(handles[0]).toBe(HANDLE_CHANGE.previous);
    expect(handles.length - handles.indexOf(changes[0]!)).toBeGreaterThanOrEqual(
      HANDLE_CHANGE.daysAgo,
    );
    const others = ofType('profile').filter((p) => p.accountId !== HANDLE_CHANGE.accountId);
    expect(others.every((p) => p.handle !== HANDLE_CHANGE.previous)).toBe(true);
  });

  it('reports audience shares that sum to about 1 per dimension', () => {
    for (const a of ofType('audience')) {
      for (const dimension of [a.age, a.gender, a.country, a.city, a.interests]) {
        const sum = Object.values(dimension ?? {}).reduce((s, v) => s + v, 0);
        expect(sum).toBeCloseTo(1, 2);
      }
    }
  });

  it('has a complaint spike: one brand-day with far more mentions than usual', () => {
    const perDay = new Map<string, number>();
    for (const c of ofType('comment')) {
      if (c.kind !== 'mention' || !c.accountId.endsWith('-northwind')) continue;
      const day = c.occurredAt.slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    const counts = [...perDay.values()];
    expect(Math.max(...counts)).toBeGreaterThan(10 * median(counts));
  });

  it('draws app users with power-law activity on a daily cycle', () => {
    const app = ofType('app');
    const perUser = new Map<string, number>();
    for (const e of app) if (e.userId) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
    const counts = [...perUser.values()].sort((a, b) => b - a);
    const top = counts.slice(0, Math.ceil(counts.length / 10)).reduce((s, v) => s + v, 0);
    expect(top / counts.reduce((s, v) => s + v, 0)).toBeGreaterThan(0.3);

    const byHour = new Array<number>(24).fill(0);
    for (const e of app) {
      const hour = new Date(e.occurredAt).getUTCHours();
      byHour[hour] = (byHour[hour] ?? 0) + 1;
    }
    // 13:00 UTC is the morning rush on the brands' US Eastern time; 08:00 UTC is 3 am there.
    expect(byHour[13] ?? 0).toBeGreaterThan(20 * (byHour[8] ?? 0));
  });

  it('groups app events in sessions that open the app, then browse, and whose orders add up', () => {
    const sessions = new Map<string, Of<'app'>[]>();
    for (const e of ofType('app')) {
      const session = sessions.get(e.sessionId ?? '');
      if (session) session.push(e);
      else sessions.set(e.sessionId ?? '', [e]);
    }
    expect(sessions.has('')).toBe(false);
    expect(sessions.size).toBeGreaterThan(20_000);
    const misfits: string[] = [];
    let anonymous = 0;
    let purchases = 0;
    for (const [id, session] of sessions) {
      // Whole sessions only: the window's first day can cut one that began before it.
      if (Date.parse(session[0]!.occurredAt) < NOW - 89 * DAY) continue;
      if (session[0]?.name !== 'app_open' || session[1]?.name !== 'page_view') misfits.push(id);
      if (new Set(session.map((e) => e.userId)).size !== 1) misfits.push(`${id}: two users`);
      if (session[0]?.userId === undefined) anonymous++;
      const purchase = session.find((e) => e.name === 'purchase');
      if (!purchase) continue;
      purchases++;
      // The revenue is the order's total: what the session put in its cart.
      const cart = session
        .filter((e) => e.name === 'add_to_cart')
        .reduce(
          (sum, e) => sum + Number(e.properties['price']) * Number(e.properties['quantity']),
          0,
        );
      const { revenue, currency } = purchase.properties;
      if (typeof revenue !== 'number' || Math.abs(revenue - cart) > 0.005 || currency !== 'USD') {
        misfits.push(`${purchase.id}: ${JSON.stringify(purchase.properties)}`);
      }
    }
    expect(misfits.slice(0, 5)).toEqual([]);
    expect(purchases).toBeGreaterThan(3000);
    expect(anonymous / sessions.size).toBeGreaterThan(0.05);
    expect(anonymous / sessions.size).toBeLessThan(0.25);
  });

  it('gives every app event a country and a device, and campaign sessions their utm', () => {
    const app = ofType('app');
    const countries = new Map<string, number>();
    const devices = new Set<string>();
    for (const e of app) {
      const { country, device } = e.properties as {
        country?: string;
        device?: { type?: string; os?: string };
      };
      countries.set(String(country), (countries.get(String(country)) ?? 0) + 1);
      devices.add(`${device?.type}/${device?.os}`);
    }
    expect([...countries.keys()].filter((c) => !/^[A-Z]{2}$/.test(c))).toEqual([]);
    expect((countries.get('US') ?? 0) / app.length).toBeGreaterThan(0.6);
    expect(countries.size).toBeGreaterThanOrEqual(4);
    expect([...devices].sort()).toEqual([
      'desktop/web',
      'mobile/android',
      'mobile/ios',
      'tablet/android',
      'tablet/ios',
    ]);
    const utm = app.filter((e) => e.properties['utm'] !== undefined);
    expect(utm.length).toBeGreaterThan(2000);
    expect(new Set(utm.map((e) => e.name))).toEqual(new Set(['app_open', 'page_view']));
    // A social link opens from one of the brand's own posts, and its utm names the platform.
    const platformOf = new Map(ofType('post').map((p) => [p.postId, p.platform]));
    const social = app.filter((e) => e.postId !== undefined);
    expect(social.length).toBeGreaterThan(500);
    const misfits = social.filter((e) => {
      const utm = e.properties['utm'] as { source?: string; medium?: string } | undefined;
      const platform = platformOf.get(e.postId ?? '');
      return platform === undefined || utm?.source !== platform || utm.medium !== 'social';
    });
    expect(misfits.slice(0, 5)).toEqual([]);
  });

  it("sets a user's first-seen properties once, on their first event, and their plan on sign-in", () => {
    const seen = new Set<string>();
    const misfits: string[] = [];
    let sets = 0;
    for (const e of ofType('app')) {
      if (!e.userId) {
        if (e.set ?? e.setOnce) misfits.push(`${e.id}: a person without a user`);
        continue;
      }
      const first = !seen.has(e.userId);
      seen.add(e.userId);
      const once = Object.keys(e.setOnce ?? {})
        .sort()
        .join();
      if (once !== (first ? 'firstSeen,signupSource' : ''))
        misfits.push(`${e.id}: setOnce ${once}`);
      if (!e.set) continue;
      sets++;
      const { plan, favouriteStore } = e.set;
      if (e.name !== 'app_open' || !['free', 'rewards_gold'].includes(String(plan))) {
        misfits.push(`${e.id}: set ${JSON.stringify(e.set)}`);
      }
      if (typeof favouriteStore !== 'string') misfits.push(`${e.id}: no favourite store`);
    }
    expect(misfits.slice(0, 5)).toEqual([]);
    expect(seen.size).toBeGreaterThan(2000);
    expect(sets).toBeGreaterThan(20_000);
  });
});

describe('demo traffic', () => {
  const START = NOW + 60_000;
  const CALLS = 600;
  let calls: { now: number; events: EventInput[] }[];

  beforeAll(() => {
    const next = demoTraffic(SEED);
    calls = Array.from({ length: CALLS }, (_, i) => {
      const now = START + i * 1000;
      return { now, events: next(now) };
    });
  });

  it('validates, happens within a few seconds of now, and uses fresh ids', () => {
    const ids = new Set<string>();
    let count = 0;
    for (const { now, events } of calls) {
      for (const event of events) {
        const parsed = eventInputSchema.safeParse(event);
        expect(parsed.success ? '' : describeIssues(parsed.error)).toBe('');
        expect(Math.abs(Date.parse(event.occurredAt) - now)).toBeLessThanOrEqual(5_000);
        ids.add(event.id);
        count++;
      }
    }
    expect(ids.size).toBe(count);
    // A trickle: a few events per call, so live tiles move without flooding anything.
    expect(count / CALLS).toBeGreaterThan(1);
    expect(count / CALLS).toBeLessThan(8);
    const kinds = new Set(calls.flatMap((c) => c.events.map((e) => e.type)));
    expect(kinds).toContain('app');
    expect(kinds).toContain('engagement');
  });

  it('sends app events of the same kinds as the history, in sessions, with country and device', () => {
    const app = calls.flatMap((c) => c.events.filter((e): e is Of<'app'> => e.type === 'app'));
    expect(app.length).toBeGreaterThan(100);
    const names = new Set(app.map((e) => e.name));
    expect(names).toContain('page_view');
    expect(names).toContain('add_to_cart');
    expect(names).toContain('purchase');
    const historyNames = new Set(ofType('app').map((e) => e.name));
    expect([...names].filter((name) => !historyNames.has(name))).toEqual([]);
    const misfits = app.filter((e) => {
      const device = e.properties['device'] as { type?: unknown; os?: unknown } | undefined;
      return (
        e.sessionId === undefined ||
        !/^[A-Z]{2}$/.test(String(e.properties['country'])) ||
        typeof device?.type !== 'string' ||
        typeof device.os !== 'string' ||
        (e.name === 'purchase' && typeof e.properties['revenue'] !== 'number')
      );
    });
    expect(misfits.slice(0, 5)).toEqual([]);
  });

  it('continues the history: refreshed totals never fall below what was loaded', () => {
    const loaded = new Map<string, number>();
    const historyIds = new Set<string>();
    for (const e of events) {
      historyIds.add(e.id);
      if (e.type === 'engagement' && e.mode === 'total') {
        loaded.set(`${e.postId}|${e.metric}`, e.value);
      }
    }
    let compared = 0;
    for (const { events } of calls) {
      for (const e of events) {
        if (e.type === 'post') continue;
        expect(historyIds.has(e.id)).toBe(false);
        if (e.type !== 'engagement' || e.mode !== 'total') continue;
        const key = `${e.postId}|${e.metric}`;
        const before = loaded.get(key);
        if (before !== undefined) {
          expect(e.value).toBeGreaterThanOrEqual(before);
          compared++;
        }
        loaded.set(key, e.value);
      }
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', () => {
    const next = demoTraffic(SEED);
    const replay = calls.slice(0, 50).map(({ now }) => next(now));
    expect(replay).toEqual(calls.slice(0, 50).map((c) => c.events));
  });
});
