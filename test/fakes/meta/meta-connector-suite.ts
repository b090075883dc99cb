// One suite over both Meta connectors, run against the fake: paging, throttles, token refresh and
// revocation, backoff, crash-and-resume recounted against the fake's ground truth, and what a
// connector must never do (ask for deprecated metrics, leak a token).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectorError,
  type Checkpoint,
  type Connection,
  type Connector,
  type PlatformProtocol,
} from '../../../ingest/connectors/connector.ts';
import type { MetaPollSettings } from '../../../ingest/connectors/meta/poll-settings.ts';
import { eventInputSchema, type EventInput } from '../../../schema/event-envelope.ts';
import { RateLimiter } from '../../../ingest/connectors/rate-limiter.ts';
import { distinctById, pollOnce } from '../../support/connector-harness.ts';
import {
  startMetaFake,
  type AccountTruth,
  type MetaFake,
  type MetaFakeOptions,
} from './meta.fake.ts';
import type { AccountSpec } from './meta-seed.ts';

const DAY = 86_400_000;

export interface MetaFlavour {
  platform: 'facebook' | 'instagram';
  add(fake: MetaFake, spec: AccountSpec): string;
  protocol(fake: MetaFake, now: () => number, usagePauseMs?: number): PlatformProtocol;
  connector(options: Partial<MetaPollSettings>): Connector;
  /** The posts list path, e.g. `/media`. */
  listEdge: string;
  /** The token endpoint's path. */
  refreshPath: RegExp;
  /** The lifetime totals the connector reads for each post, as the fake's counters name them. */
  postMetrics: (keyof AccountTruth['posts'][number]['counters'])[];
  /** Metrics Meta removed; the fake refuses them, so a request for one would fail the poll. */
  deprecated: string[];
}

type Post = Extract<EventInput, { type: 'post' }>;
type Engagement = Extract<EventInput, { type: 'engagement' }>;

export function describeMetaConnector(flavour: MetaFlavour): void {
  const { platform } = flavour;
  let fake: MetaFake;
  let offset = 0;
  const now = () => Date.now() + offset;

  async function start(options: MetaFakeOptions = {}) {
    fake = await startMetaFake({ now, ...options });
  }

  beforeEach(async () => {
    offset = 0;
    await start();
  });
  afterEach(async () => fake.close());

  function setup(spec: AccountSpec = {}, settings: Partial<MetaPollSettings> = {}) {
    const nativeId = flavour.add(fake, { posts: 70, spanDays: 150, followers: 4000, ...spec });
    // A day old, so Instagram will refresh it (A.10: 24 h at least).
    const token = fake.issueToken(nativeId, { issuedAt: now() - 2 * DAY });
    const connection: Connection = {
      orgId: 'org-1',
      accountId: `acct-${platform}`,
      platform,
      platformAccountId: nativeId,
    };
    const base = {
      connector: flavour.connector({ pageSize: 10, ...settings }),
      protocol: flavour.protocol(fake, now),
      connection,
      credentials: { accessToken: token.accessToken, expiresAt: token.expiresAt },
      now,
    };
    return { nativeId, token, base, truth: fake.truth(nativeId) };
  }

  /** The fake's posts a pass over [now - horizon, now] must have read. */
  const inHorizon = (truth: AccountTruth, horizonMs = 90 * DAY) =>
    truth.posts.filter((p) => p.createdAt >= Math.floor((now() - horizonMs) / 1000) * 1000);

  function expectValid(events: EventInput[], accountId: string) {
    for (const e of events) {
      expect(eventInputSchema.safeParse(e).success, JSON.stringify(e)).toBe(true);
      expect(e.accountId).toBe(accountId);
      expect(e.platform).toBe(platform);
    }
  }

  /** Every post of `expected` read exactly once, with each of its totals equal to the fake's. */
  function expectRecount(events: EventInput[], expected: AccountTruth['posts']) {
    const byId = [...distinctById(events).values()];
    const posts = byId.filter((e): e is Post => e.type === 'post');
    expect(posts.map((p) => p.postId).sort()).toEqual(
      expected.map((p) => `${platform}:${p.id}`).sort(),
    );
    const totals = byId.filter((e): e is Engagement => e.type === 'engagement' && !!e.postId);
    for (const p of expected) {
      const mine = totals.filter((t) => t.postId === `${platform}:${p.id}`);
      for (const metric of flavour.postMetrics) {
        const seen = mine.filter((t) => t.metric === metric);
        expect(
          seen.map((t) => t.value),
          `${p.id} ${metric}`,
        ).toEqual([p.counters[metric]]);
      }
    }
  }

  const listCalls = () => fake.calls.filter((c) => c.path.endsWith(flavour.listEdge));
  const tokensIn = (text: string, ...tokens: string[]) => tokens.filter((t) => text.includes(t));

  describe(`${platform} connector against the Meta fake`, () => {
    it('reads every post of the horizon across several cursor pages, with their totals', async () => {
      const { base, truth } = setup();
      const run = await pollOnce(base);
      expect(run.error).toBeUndefined();
      expectValid(run.events, base.connection.accountId);
      const expected = inHorizon(truth);
      expect(expected.length).toBeGreaterThan(25);
      expectRecount(run.events, expected);
      // Several pages, the later ones by cursor; a short (privacy-filtered) page did not end it.
      const pages = listCalls().filter((c) => c.query.fields !== 'id');
      expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 10));
      expect(pages.slice(1).every((c) => c.query.after !== undefined)).toBe(true);
      expect(truth.hidden).toBeGreaterThan(0);
      // Posts newest first, all emitted before the checkpoint that ends the pass.
      const last = run.checkpoints.at(-1)!;
      expect(last.pass).toBeNull();
      expect(last.newestSeen).toBe(Math.floor(truth.posts[0]!.createdAt / 1000));
      // Cursors are never stored: they die with their item (A.6).
      const cursors = pages.flatMap((c) => (c.query.after ? [c.query.after] : []));
      for (const cp of run.checkpoints) {
        expect(tokensIn(JSON.stringify(cp), ...cursors)).toEqual([]);
      }
      const profile = run.events.find((e) => e.type === 'profile');
      expect(profile).toMatchObject({
        followers: truth.followers,
        following: truth.following,
        postCount: truth.mediaCount,
      });
    });

    it('reads settled days of account insights once, and the audience once a day', async () => {
      const { base, truth } = setup({}, { insightsHorizonDays: 5 });
      const run = await pollOnce(base);
      expect(run.error).toBeUndefined();
      const daily = run.events.filter(
        (e): e is Engagement => e.type === 'engagement' && e.postId === undefined,
      );
      const lastSettled = Math.floor((now() - 2 * DAY) / DAY) * DAY - DAY;
      const days = [...new Set(daily.map((e) => Date.parse(e.occurredAt)))].sort((a, b) => a - b);
      expect(days).toEqual([4, 3, 2, 1, 0].map((n) => lastSettled - n * DAY));
      for (const e of daily) {
        expect(e.mode).toBe('delta');
        expect(['reach', 'views']).toContain(e.metric);
        const day = truth.day(Date.parse(e.occurredAt));
        expect(e.value).toBe(e.metric === 'reach' ? day.reach : day.views);
      }
      const audience = run.events.filter((e) => e.type === 'audience');
      expect(audience).toHaveLength(1);
      expect(audience[0]).toMatchObject({ country: truth.demographics.country });
      const again = await pollOnce({ ...base, checkpoint: run.checkpoints.at(-1)! });
      expect(again.error).toBeUndefined();
      const reread = again.events.filter(
        (e) => e.type === 'audience' || (e.type === 'engagement' && e.postId === undefined),
      );
      expect(reread).toEqual([]);
    });

    it('waits for the announced regain time after a throttle, then goes on', async () => {
      const { base, truth } = setup();
      fake.inject({ throttle: { regainMinutes: 0.02 }, path: new RegExp(`${flavour.listEdge}$`) });
      const run = await pollOnce(base);
      expect(run.error).toBeUndefined();
      expect(run.stats.throttled).toBe(1);
      expect(fake.stats.throttled).toBe(1);
      const at = fake.calls.findIndex((c) => c.status !== 200);
      const refused = fake.calls[at]!;
      const next = fake.calls[at + 1]!;
      expect(next.time - refused.time).toBeGreaterThanOrEqual(0.02 * 60_000 - 50);
      expectRecount(run.events, inHorizon(truth));
    });

    it('keeps under a small rolling allowance, reading the usage headers', async () => {
      await fake.close();
      await start({
        limits: {
          instagram: { windowMs: 2000, calls: 20 },
          pages: { windowMs: 2000, calls: 20 },
          exactRegain: true,
        },
      });
      const { base, truth, nativeId } = setup({ posts: 40 });
      const limiter = new RateLimiter(now);
      const run = await pollOnce({ ...base, limiter, protocol: flavour.protocol(fake, now, 400) });
      expect(run.error).toBeUndefined();
      expectRecount(run.events, inHorizon(truth));
      // The percentages reached the limiter, and at 95 % it paused on an answer that was not
      // yet a refusal; a throttle now and then is Meta's word that the window is still full.
      const [headroom] = limiter.headroom(`${platform}|${nativeId}`);
      expect(headroom?.usagePercent).toBeGreaterThan(0);
      const ok = fake.calls.filter((c) => c.status === 200);
      const paused = ok.some((c, i) => i > 0 && c.time - ok[i - 1]!.time >= 350);
      expect(paused).toBe(true);
      expect(fake.stats.throttled).toBeLessThanOrEqual(Math.ceil(ok.length / 20) + 1);
    });

    it('refreshes an expired token and goes on with the new one', async () => {
      const { base, token, truth } = setup();
      fake.expire(token.accessToken);
      const run = await pollOnce(base);
      expect(run.error).toBeUndefined();
      expect(run.stored).toHaveLength(1);
      expect(run.credentials.accessToken).not.toBe(token.accessToken);
      expect(run.credentials.expiresAt).toBeGreaterThan(now() + 59 * DAY);
      expect(fake.calls.filter((c) => flavour.refreshPath.test(c.path))).toHaveLength(1);
      expectRecount(run.events, inHorizon(truth));
    });

    it('refreshes a token a week before it expires, before calling with it', async () => {
      const { base } = setup();
      offset = 54 * DAY;
      const run = await pollOnce({ ...base, connector: flavour.connector({ pageSize: 25 }) });
      expect(run.error).toBeUndefined();
      expect(run.stored).toHaveLength(1);
      expect(fake.calls[0]!.path).toMatch(flavour.refreshPath);
    });

    it('backs off after a 5xx and succeeds', async () => {
      const { base, truth } = setup();
      fake.inject({ status: 503, count: 2 });
      fake.inject({ status: 500, count: 1, path: new RegExp(`${flavour.listEdge}$`) });
      const run = await pollOnce(base);
      expect(run.error).toBeUndefined();
      expect(run.stats.retried).toBeGreaterThanOrEqual(3);
      expect(fake.stats.byStatus[503]).toBe(2);
      expect(fake.stats.byStatus[500]).toBe(1);
      expectRecount(run.events, inHorizon(truth));
    });

    it('ends with a revoked error, without the token, when the grant is gone', async () => {
      const { base, nativeId, token } = setup();
      fake.revoke(nativeId);
      const run = await pollOnce(base);
      expect(run.error).toBeInstanceOf(ConnectorError);
      expect((run.error as ConnectorError).kind).toBe('revoked');
      expect(tokensIn((run.error as Error).message, token.accessToken)).toEqual([]);
      expect(run.events).toEqual([]);
    });

    it('ends revoked when the token outlived its 60 days: an expired token cannot be refreshed', async () => {
      const { base, token } = setup();
      offset = 61 * DAY;
      // Credentials stored without their expiry: the platform's 190/463 is the first word of it.
      const run = await pollOnce({ ...base, credentials: { accessToken: token.accessToken } });
      expect((run.error as ConnectorError).kind).toBe('revoked');
      expect((run.error as Error).message).toMatch(/refused/);
      expect(tokensIn(String((run.error as Error).message), token.accessToken)).toEqual([]);
    });

    it('resumes a pass cut by a crash from its checkpoint: every post once, no gap', async () => {
      const { base, truth } = setup({ posts: 90 });
      const first = await pollOnce({ ...base, crashAfterEmits: 3, slot: 1_000 });
      expect(first.error).toBeInstanceOf(Error);
      const cut = first.checkpoints.at(-1)! as Checkpoint & {
        pass: { slot: number; resumeUntil: number; stopAt: number };
      };
      expect(cut.pass.slot).toBe(1_000);
      expect(cut.pass.resumeUntil).toBeGreaterThan(cut.pass.stopAt);
      const before = fake.calls.length;
      // Another replica, another slot: the pass keeps the slot it started with.
      const second = await pollOnce({ ...base, checkpoint: cut, slot: 2_000 });
      expect(second.error).toBeUndefined();
      const resumed = fake.calls.slice(before).filter((c) => c.path.endsWith(flavour.listEdge));
      const firstPage = resumed.find((c) => c.query.fields !== 'id')!;
      expect(firstPage.query.until).toBe(String(cut.pass.resumeUntil));
      expect(firstPage.query.after).toBeUndefined();
      const all = [...first.events, ...second.events];
      expectValid(all, base.connection.accountId);
      expectRecount(all, inHorizon(truth));
      expect(all.some((e) => e.id.endsWith(':2000'))).toBe(false);
    });

    it('bounds the pages of one poll; the next poll carries the pass on', async () => {
      const { base, truth } = setup({ posts: 90 }, { maxPagesPerPoll: 2 });
      const first = await pollOnce({ ...base, slot: 10 });
      expect(first.error).toBeUndefined();
      expect(first.events.filter((e) => e.type === 'post').length).toBeLessThanOrEqual(20);
      const left = first.checkpoints.at(-1)!;
      expect(left.pass).toMatchObject({ slot: 10 });
      const runs = [first];
      while (runs.at(-1)!.checkpoints.at(-1)!.pass && runs.length < 10) {
        runs.push(
          await pollOnce({ ...base, checkpoint: runs.at(-1)!.checkpoints.at(-1)!, slot: 20 }),
        );
      }
      expect(runs.length).toBeGreaterThan(2);
      expect(runs.at(-1)!.checkpoints.at(-1)!.pass).toBeNull();
      expectRecount(
        runs.flatMap((r) => r.events),
        inHorizon(truth),
      );
    });

    it('a second poll adds no post ids, and refreshes only the recent totals', async () => {
      const { base, truth } = setup();
      const first = await pollOnce(base);
      expect(first.error).toBeUndefined();
      const before = fake.calls.length;
      const second = await pollOnce({ ...base, checkpoint: first.checkpoints.at(-1)! });
      expect(second.error).toBeUndefined();
      const ids = new Set(first.events.map((e) => e.id));
      const postsAgain = second.events.filter((e) => e.type === 'post');
      expect(postsAgain.every((e) => ids.has(e.id))).toBe(true);
      const recent = truth.posts.filter((p) => p.createdAt >= now() - 7 * DAY - 2000);
      expect(postsAgain.length).toBeGreaterThanOrEqual(recent.length - 1);
      expect(postsAgain.length).toBeLessThanOrEqual(recent.length);
      const since = fake.calls
        .slice(before)
        .filter((c) => c.path.endsWith(flavour.listEdge) && c.query.since)
        .map((c) => Number(c.query.since));
      expect(since.length).toBeGreaterThan(0);
      expect(Math.min(...since)).toBeGreaterThanOrEqual(Math.floor((now() - 7 * DAY) / 1000) - 5);
      // A new post is picked up by the next poll.
      const fresh = fake.publish(base.connection.platformAccountId);
      const third = await pollOnce({ ...base, checkpoint: second.checkpoints.at(-1)! });
      expect(
        third.events.some((e) => e.type === 'post' && e.postId === `${platform}:${fresh.id}`),
      ).toBe(true);
    });

    it('never asks for a deprecated metric, nor sends a token in a URL', async () => {
      const { base, token } = setup();
      const run = await pollOnce(base);
      expect(run.error).toBeUndefined();
      const asked = fake.calls.flatMap((c) => (c.query.metric ?? '').split(',')).filter(Boolean);
      expect(asked.length).toBeGreaterThan(0);
      for (const name of asked) {
        expect(flavour.deprecated.some((d) => name === d || name.startsWith(`${d}_`))).toBe(false);
        expect(name).not.toMatch(/impressions|^page_fans/);
      }
      expect(fake.calls.every((c) => c.query.access_token === undefined)).toBe(true);
      expect(tokensIn(JSON.stringify(run.events), token.accessToken)).toEqual([]);
    });
  });
}
