// The Meta fake checked against the documentation it follows: its answers have the keys and
// types of the JSON examples PLATFORMS.md part A quotes (documented-examples.json), and it
// refuses what the docs say Meta refuses.
//
// Modelled: versioned paths; Pages (`/{page}`, `/published_posts`, `/insights`) and Instagram
// Login (`/{ig-user}`, `/media`, `/stories`, `/insights`); multi-id `/insights?ids=`; field
// selection; cursor paging with privacy-filtered slots; since/until; both insights shapes;
// deprecated metrics and old timeframes refused; demographics withheld under 100 followers;
// quiet stories (code 10); the 48 h settling of daily values; token lifetimes, refresh and
// exchange rules; BUC and app rolling windows with usage headers; scripted 5xx, throttles,
// expiry and revocation; signed webhook delivery.
// Left out: writes (publishing, comments, subscriptions), webhook retries, the Graph batch API,
// field expansion beyond edge summaries, short-lived tokens and their exchange, Page tokens
// derived from user tokens, Pacific-time days (the fake's days are UTC), ads and every other
// BUC type, `is_from_ads` and other breakdowns of Page metrics, counters that grow by themselves.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import examples from './documented-examples.json' with { type: 'json' };
import { startMetaFake, type MetaFake } from './meta.fake.ts';

const DAY = 86_400_000;
type Json = unknown;

/** The keys and types of a JSON value; an array by its first element. */
function shapeOf(value: Json): Json {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, Json>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value;
}

/**
 * Every key of `actual` is documented with the same type; with `exact`, every documented key is
 * answered too. Paths of the differences, empty when the shapes agree.
 */
function shapeDiff(actual: Json, documented: Json, exact: boolean, at = '$'): string[] {
  const a = shapeOf(actual);
  const d = shapeOf(documented);
  if (Array.isArray(a) && Array.isArray(d)) {
    return a.length && d.length
      ? shapeDiff((actual as Json[])[0], (documented as Json[])[0], exact, `${at}[0]`)
      : [];
  }
  if (
    typeof a === 'object' &&
    typeof d === 'object' &&
    a &&
    d &&
    !Array.isArray(a) &&
    !Array.isArray(d)
  ) {
    const av = actual as Record<string, Json>;
    const dv = documented as Record<string, Json>;
    const out: string[] = [];
    for (const k of Object.keys(av)) {
      if (!(k in dv)) out.push(`${at}.${k}: not documented`);
      else out.push(...shapeDiff(av[k], dv[k], exact, `${at}.${k}`));
    }
    if (exact) for (const k of Object.keys(dv)) if (!(k in av)) out.push(`${at}.${k}: missing`);
    return out;
  }
  // A documented placeholder ("...") stands for any value but an object.
  if (documented === '...' && typeof actual !== 'object') return [];
  return JSON.stringify(a) === JSON.stringify(d)
    ? []
    : [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(d)}`];
}

const doc = examples as Record<string, Json>;

describe('Meta fake', () => {
  let fake: MetaFake;
  let offset = 0;
  const now = () => Date.now() + offset;

  beforeEach(async () => {
    offset = 0;
    fake = await startMetaFake({ now });
  });
  afterEach(async () => fake.close());

  async function get(path: string, token?: string) {
    const res = await fetch(`${fake.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as Record<string, Json>,
    };
  }

  function igUser(followers = 5000) {
    const id = fake.addInstagramUser({ followers, posts: 40, spanDays: 60 });
    return { id, token: fake.issueToken(id, { issuedAt: now() - 2 * DAY }).accessToken };
  }
  function page(followers = 5000) {
    const id = fake.addPage({ followers, posts: 40, spanDays: 60 });
    return { id, token: fake.issueToken(id, { issuedAt: now() - 2 * DAY }).accessToken };
  }
  const dayStart = (ms: number) => Math.floor(ms / DAY) * DAY;
  const yesterday = () => dayStart(now()) / 1000 - 86_400;

  describe('answers have the documented shapes', () => {
    it('account insights with total_value and a breakdown (A.2)', async () => {
      const { id, token } = igUser();
      const q = `metric=reach&period=day&metric_type=total_value&breakdown=media_product_type&since=${yesterday()}&until=${yesterday() + 86_399}`;
      const res = await get(`/v25.0/${id}/insights?${q}`, token);
      expect(res.status).toBe(200);
      expect(shapeDiff(res.body, doc['A.2 total_value insights'], true)).toEqual([]);
      const total = (
        res.body.data as {
          total_value: { value: number; breakdowns: { results: { value: number }[] }[] };
        }[]
      )[0]!.total_value;
      expect(total.breakdowns[0]!.results.reduce((s, r) => s + r.value, 0)).toBe(total.value);
    });

    it('time series values with end_time, and demographics keyed by timeframe (A.2, A.3)', async () => {
      const { id, token } = igUser();
      const series = await get(
        `/v25.0/${id}/insights?metric=reach&period=day&since=${yesterday() - 86_400}&until=${yesterday() + 86_399}`,
        token,
      );
      const entry = (series.body.data as Record<string, Json>[])[0]!;
      expect(
        shapeDiff(
          { values: entry.values },
          doc['A.2 time_series values (older answer, UNVERIFIED today)'],
          true,
        ),
      ).toEqual([]);
      expect((entry.values as Json[]).length).toBe(2);
      const demo = await get(
        `/v25.0/${id}/insights?metric=follower_demographics&period=lifetime&metric_type=total_value&timeframe=this_month&breakdown=country`,
        token,
      );
      const group = (demo.body.data as { total_value: { breakdowns: Json[] } }[])[0]!.total_value
        .breakdowns[0];
      expect(shapeDiff(group, doc['A.3 demographics dimension'], true)).toEqual([]);
    });

    it('cursor pages: before/after, full-URL previous and next, no next on the last page (A.6)', async () => {
      const { id, token } = igUser();
      const first = await get(`/v25.0/${id}/media?fields=id,timestamp&limit=15`, token);
      const paging = first.body.paging as { next: string; cursors: { after: string } };
      expect(paging.next.startsWith(`${fake.url}/v25.0/${id}/media?`)).toBe(true);
      const second = await get(paging.next.slice(fake.url.length), token);
      expect(shapeDiff(second.body, doc['A.6 cursor paging'], true)).toEqual([]);
      const third = await get(
        (second.body.paging as { next: string }).next.slice(fake.url.length),
        token,
      );
      expect(third.body.paging).toHaveProperty('cursors');
      expect(third.body.paging).not.toHaveProperty('next');
      // 40 slots, some privacy-filtered: pages can be short, and the visible ones add up.
      const seen = [first, second, third].flatMap((r) => r.body.data as Json[]);
      expect(seen.length).toBe(fake.truth(id).posts.length);
      expect(seen.length).toBeLessThan(40);
    });

    it('token answers of the IG refresh and the FB exchange (A.10)', async () => {
      const ig = igUser();
      const refreshed = await get(
        `/refresh_access_token?grant_type=ig_refresh_token&access_token=${ig.token}`,
      );
      expect(shapeDiff(refreshed.body, doc['A.10 token answer'], true)).toEqual([]);
      expect(refreshed.body.expires_in).toBe(5_183_944);
      const fb = page();
      const exchanged = await get(
        `/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id=${fake.appId}&client_secret=${fake.appSecret}&fb_exchange_token=${fb.token}`,
      );
      expect(shapeDiff(exchanged.body, doc['A.10 token answer'], true)).toEqual([]);
      expect(exchanged.body.access_token).not.toBe(fb.token);
    });

    it('error envelopes: token, metric, story, no-metric (A.5, A.7, A.9)', async () => {
      const { id, token } = igUser();
      fake.expire(token);
      const expired = await get(`/v25.0/${id}`, token);
      expect(shapeDiff(expired.body, doc['A.9 error envelope'], false)).toEqual([]);
      expect(expired.body.error).toMatchObject({ code: 190, error_subcode: 463 });

      const other = igUser();
      const story = fake.truth(other.id);
      const quiet = await get(`/v25.0/${other.id}/stories?fields=id`, other.token);
      const storyId = (quiet.body.data as { id: string }[])[0]!.id;
      const refused = await get(`/v25.0/${storyId}/insights?metric=reach`, other.token);
      expect(shapeDiff(refused.body, doc['A.5 story with few viewers'], true)).toEqual([]);
      expect(refused.body.error).toMatchObject({ code: 10 });
      expect(story.posts.some((p) => p.id === storyId)).toBe(false);

      const p = page();
      const none = await get(`/v25.0/${p.id}/insights?period=day`, p.token);
      expect(shapeDiff(none.body, doc['A.7 no metric error'], true)).toEqual([]);
      expect(none.body.error).toMatchObject({ code: 3001, error_subcode: 1504028 });
    });

    it('usage headers and the throttle that follows them, at 100 % (A.8)', async () => {
      await fake.close();
      fake = await startMetaFake({ now, limits: { pages: { windowMs: 60_000, calls: 5 } } });
      const { id, token } = page();
      const answers = [];
      for (let i = 0; i < 7; i++) answers.push(await get(`/v25.0/${id}?fields=id,name`, token));
      const buc = answers.map(
        (a) =>
          JSON.parse(a.headers.get('x-business-use-case-usage')!) as Record<
            string,
            { call_count: number; estimated_time_to_regain_access: number }[]
          >,
      );
      const percents = buc.map((h) => h[id]![0]!.call_count);
      expect(percents).toEqual([20, 40, 60, 80, 100, 100, 100]);
      // Keyed by the business object's id, each an array of usages (A.8).
      const documentedBuc = doc['A.8 X-Business-Use-Case-Usage'] as Record<string, Json>;
      expect(Object.keys(buc[0]!)).toEqual([id]);
      expect(shapeDiff(buc[0]![id], documentedBuc['66782684'], false)).toEqual([]);
      expect(
        shapeDiff(
          JSON.parse(answers[0]!.headers.get('x-app-usage')!),
          doc['A.8 X-App-Usage'],
          true,
        ),
      ).toEqual([]);
      const throttle = answers[5]!;
      expect(shapeDiff(throttle.body, doc['A.8 throttle error (#80001)'], true)).toEqual([]);
      expect(throttle.body.error).toMatchObject({ code: 80001 });
      expect(buc[5]![id]![0]!.estimated_time_to_regain_access).toBeGreaterThan(0);
      expect(fake.stats.throttled).toBe(2);
      // Minutes later the window has rolled and calls pass again.
      offset = 61_000;
      expect((await get(`/v25.0/${id}?fields=id`, token)).status).toBe(200);
    });

    it('scripted faults: 5xx, a throttle of another code and status', async () => {
      const { id, token } = page();
      fake.inject({ status: 503, count: 1 });
      fake.inject({ throttle: { code: 32, status: 403, regainMinutes: 3 } });
      const unavailable = await get(`/v25.0/${id}`, token);
      expect(unavailable.status).toBe(503);
      expect(unavailable.body.error).toMatchObject({ code: 2, is_transient: true });
      const limited = await get(`/v25.0/${id}`, token);
      expect(limited.status).toBe(403);
      expect(shapeDiff(limited.body, doc['A.8 throttle error (#32)'], true)).toEqual([]);
      const regain = JSON.parse(limited.headers.get('x-business-use-case-usage')!) as Record<
        string,
        { estimated_time_to_regain_access: number }[]
      >;
      expect(regain[id]![0]!.estimated_time_to_regain_access).toBe(3);
      expect((await get(`/v25.0/${id}`, token)).status).toBe(200);
      expect(fake.calls.map((c) => c.status)).toEqual([503, 403, 200]);
    });
  });

  describe('refuses what Meta refuses', () => {
    it('impressions and plays on current media, views in their place (A.4)', async () => {
      const { id, token } = igUser();
      const media = fake.truth(id).posts[0]!;
      for (const metric of ['impressions', 'plays', 'video_views']) {
        const res = await get(`/v25.0/${media.id}/insights?metric=${metric}`, token);
        expect(res.body.error, metric).toMatchObject({ code: 100 });
      }
      const views = await get(`/v25.0/${media.id}/insights?metric=views,reach`, token);
      expect(
        (views.body.data as { name: string; values: { value: number }[] }[]).map((e) => [
          e.name,
          e.values[0]!.value,
        ]),
      ).toEqual([
        ['views', media.counters.views],
        ['reach', media.counters.reach],
      ]);
      const account = await get(`/v25.0/${id}/insights?metric=impressions&period=day`, token);
      expect(account.body.error).toMatchObject({ code: 100 });
    });

    it('old demographic timeframes, demographics under 100 followers, empty metrics (A.2, A.3)', async () => {
      const { id, token } = igUser();
      const base = `/v25.0/${id}/insights?metric=follower_demographics&period=lifetime&metric_type=total_value&breakdown=age`;
      expect((await get(`${base}&timeframe=last_30_days`, token)).body.error).toMatchObject({
        code: 100,
      });
      const small = igUser(60);
      const hidden = await get(
        `/v25.0/${small.id}/insights?metric=follower_demographics&period=lifetime&metric_type=total_value&breakdown=age&timeframe=this_month`,
        small.token,
      );
      expect(hidden.body).toEqual({ data: [] });
      const quiet = await get(
        `/v25.0/${id}/insights?metric=replies&period=day&metric_type=total_value`,
        token,
      );
      expect(quiet.body.data).toEqual([]);
      const noSeries = await get(`/v25.0/${id}/insights?metric=views&period=day`, token);
      expect(noSeries.body.error).toMatchObject({ code: 100 });
    });

    it('removed Page metrics, over 90 days, and demographics by lifetime (A.7)', async () => {
      const { id, token } = page();
      for (const metric of [
        'page_fans',
        'page_impressions',
        'page_impressions_unique',
        'page_fans_country',
        'page_engaged_users',
      ]) {
        const res = await get(`/v25.0/${id}/insights?metric=${metric}&period=day`, token);
        expect(res.body.error, metric).toMatchObject({ code: 100 });
      }
      const since = yesterday() - 95 * 86_400;
      const long = await get(
        `/v25.0/${id}/insights?metric=page_media_view&period=day&since=${since}&until=${yesterday()}`,
        token,
      );
      expect(long.body.error).toMatchObject({ code: 100 });
      const lifetime = await get(
        `/v25.0/${id}/insights?metric=page_follows_country&period=lifetime`,
        token,
      );
      expect(lifetime.body).toEqual({ data: [] });
      const post = fake.truth(id).posts[0]!;
      const old = await get(`/v25.0/${post.id}/insights?metric=post_impressions`, token);
      expect(old.body.error).toMatchObject({ code: 100 });
    });

    it('days not yet settled show partial values (A.2: up to 48 h late)', async () => {
      const { id, token } = page();
      const today = dayStart(now());
      const settled = today - 3 * DAY;
      const res = await get(
        `/v25.0/${id}/insights?metric=page_media_view&period=day&since=${settled / 1000}&until=${today / 1000}`,
        token,
      );
      const values = (res.body.data as { values: { value: number; end_time: string }[] }[])[0]!
        .values;
      expect(values).toHaveLength(4);
      const truth = fake.truth(id);
      expect(values[0]!.value).toBe(truth.day(settled).views);
      expect(values[3]!.value).toBeLessThan(truth.day(today).views);
      expect(values[0]!.end_time).toBe(
        new Date(settled + DAY).toISOString().replace('.000Z', '+0000'),
      );
    });

    it('tokens: young IG tokens are not refreshed, expired ones neither, revoked ones nowhere', async () => {
      const id = fake.addInstagramUser();
      const young = fake.issueToken(id).accessToken;
      const tooSoon = await get(
        `/refresh_access_token?grant_type=ig_refresh_token&access_token=${young}`,
      );
      expect(tooSoon.status).toBe(400);
      offset = 61 * DAY;
      const late = await get(
        `/refresh_access_token?grant_type=ig_refresh_token&access_token=${young}`,
      );
      expect(late.body.error).toMatchObject({ code: 190, error_subcode: 463 });
      offset = 0;
      const p = page();
      fake.revoke(p.id, 458);
      expect((await get(`/v25.0/${p.id}`, p.token)).body.error).toMatchObject({
        code: 190,
        error_subcode: 458,
      });
      const exchange = await get(
        `/v25.0/oauth/access_token?grant_type=fb_exchange_token&client_id=${fake.appId}&client_secret=${fake.appSecret}&fb_exchange_token=${p.token}`,
      );
      expect(exchange.body.error).toMatchObject({ code: 190 });
      expect((await get(`/v25.0/${p.id}`)).body.error).toMatchObject({ code: 104 });
      // A token reads its own account only.
      const other = page();
      expect((await get(`/v25.0/${p.id}`, other.token)).body.error).toMatchObject({
        code: 100,
        error_subcode: 33,
      });
      // The call log never holds a token.
      expect(JSON.stringify(fake.calls)).not.toContain(young);
    });

    it('a cursor whose item was deleted is refused (A.6)', async () => {
      const { id, token } = igUser();
      const first = await get(`/v25.0/${id}/media?limit=5`, token);
      const paging = first.body.paging as { next: string };
      const ids = fake.truth(id).posts.map((p) => p.id);
      fake.deletePost(ids[4]!);
      const next = await get(paging.next.slice(fake.url.length), token);
      expect(next.body.error).toMatchObject({ code: 100 });
    });
  });

  describe('seeded accounts', () => {
    it('are the same for the same spec, and cheap to register by the thousand', async () => {
      const again = await startMetaFake({ now });
      try {
        const a = fake.addPage({ posts: 30, seed: 7 });
        const b = again.addPage({ posts: 30, seed: 7 });
        expect(fake.truth(a).posts).toEqual(again.truth(b).posts);
      } finally {
        await again.close();
      }
      const started = performance.now();
      const ids = fake.addAccounts('instagram', 5000, { posts: 200 });
      expect(new Set(ids).size).toBe(5000);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(fake.truth(ids[4321]!).posts.length).toBeGreaterThan(150);
    });
  });

  it('delivers webhooks signed with the app secret (A.11)', async () => {
    let seen: { signature: string | undefined; raw: string } | undefined;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = {
          signature: req.headers['x-hub-signature-256'] as string | undefined,
          raw: Buffer.concat(chunks).toString(),
        };
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const body = {
        object: 'instagram',
        entry: [
          { id: '1', time: 1, changes: [{ field: 'comments', value: { id: 'c1', text: 'hi' } }] },
        ],
      };
      expect(await fake.deliverWebhook(`http://127.0.0.1:${port}/hook`, body)).toBe(200);
      const expected = createHmac('sha256', fake.appSecret).update(seen!.raw).digest('hex');
      expect(seen!.signature).toBe(`sha256=${expected}`);
      expect(JSON.parse(seen!.raw)).toEqual(body);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
