// End to end through the public doors only: events go in over HTTP to the collector, answers come
// out of the gateway over HTTP and graphql-ws, and are checked against a recount of what was sent.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadConfig, SUBGRAPHS, throwawayEnv } from '../../lib/config.ts';
import { METRICS, type EventInput } from '../../schema/event-envelope.ts';
import { startLoupe, type RunningLoupe } from '../../scripts/runtime.ts';
import { knownBatch } from './known-batch.ts';
import { DEMO_TIME_ZONE } from '../../lib/meta/accounts.repo.ts';
import { localLabel, type LabelGrain } from './local-label.ts';
import { distinctUsersIn, recountBy } from './recount.ts';
import { waitForValue } from './wait-for.ts';

/**
 * The end-to-end suite, run once per store set: `servers` returns the settings that point the
 * product at server adapters (none for the embedded defaults).
 */
export function e2eSuite(servers: () => Promise<Record<string, string>>): void {
  const DEMO_KEY = 'loupe_e2e_key_a_0123456789';
  let loupe: RunningLoupe;
  let otherKey: string;

  interface GraphQLResponse<T> {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  }

  function url(door: 'gateway' | 'ingest'): string {
    const value = loupe.urls[door];
    if (!value) throw new Error(`the ${door} is not running`);
    return value;
  }

  async function graphql<T>(key: string, query: string, variables: object = {}) {
    const res = await fetch(url('gateway'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLResponse<T> };
  }

  async function post(key: string, body: unknown) {
    const res = await fetch(`${url('ingest')}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function postAll(key: string, events: readonly EventInput[]) {
    for (let i = 0; i < events.length; i += 1000) {
      const { status, body } = await post(key, { events: events.slice(i, i + 1000) });
      expect(status).toBe(200);
      expect(body['rejected']).toBe(0);
    }
  }

  const METRICS_QUERY = /* GraphQL */ `
    query (
      $id: ID!
      $from: DateTime!
      $to: DateTime!
      $g: Granularity!
      $tz: String
      $compare: Comparison
    ) {
      account(id: $id) {
        id
        metrics(
          range: { from: $from, to: $to }
          granularity: $g
          timeZone: $tz
          compare: $compare
        ) {
          timeZone
          freshness {
            newestEventAt
          }
          series {
            metric
            total
            points {
              at
              value
            }
            previous {
              total
              change
              changePercent
            }
          }
        }
      }
    }
  `;

  interface MetricsData {
    account: {
      id: string;
      metrics: {
        timeZone: string;
        freshness: { newestEventAt: string | null };
        series: {
          metric: string;
          total: number;
          points: { at: string; value: number }[];
          previous: { total: number; change: number; changePercent: number | null } | null;
        }[];
      };
    } | null;
  }

  function wsClient(key: string): Client {
    return createClient({
      url: url('gateway').replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: key },
      retryAttempts: 0,
    });
  }

  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'loupe-e2e-'));
    const config = loadConfig({
      ...throwawayEnv({ dataDir, apiKey: DEMO_KEY, logLevel: 'warn' }),
      ...(await servers()),
    });
    loupe = await startLoupe(config);
    otherKey = (await loupe.createOrganisation('Second org')).apiKey;
  });
  afterAll(async () => loupe?.close());

  describe('collector', () => {
    test('rejects bad events with their index and reason, and keeps the rest', async () => {
      const good = knownBatch({ end: Date.now(), hours: 2, size: 3 }).events.slice(0, 3);
      const { status, body } = await post(DEMO_KEY, {
        events: [good[0], { type: 'engagement' }, good[1], { ...good[2], occurredAt: 'yesterday' }],
      });
      expect(status).toBe(200);
      expect(body['accepted']).toBe(2);
      const results = body['results'] as { index: number; status: string; reason?: string }[];
      expect(results.filter((r) => r.status === 'rejected').map((r) => r.index)).toEqual([1, 3]);
      expect(results[3]?.reason).toMatch(/occurredAt/);
    });

    test('answers 4xx with a reason for bad requests, never 500', async () => {
      expect((await post('not-a-key-at-all-000', { events: [] })).status).toBe(401);
      const malformed = await post(DEMO_KEY, '{"events": [');
      expect(malformed.status).toBe(400);
      expect(malformed.body['error']).toMatch(/JSON/);
      expect((await post(DEMO_KEY, { events: new Array(1001).fill({}) })).status).toBe(413);
      const huge = { events: [{ text: 'x'.repeat(1024 * 1024) }] };
      expect((await post(DEMO_KEY, huge)).status).toBe(413);
      expect((await post(DEMO_KEY, { nope: 1 })).status).toBe(400);
    });
  });

  describe('a known batch for a fresh account', () => {
    const batch = knownBatch({ end: Date.now(), hours: 24 * 35, size: 2500, seed: 11 });
    const appEvents = batch.events.filter((e) => e.type === 'app').length;

    beforeAll(async () => {
      await postAll(DEMO_KEY, batch.events);
      // Queryable once the app-event count through the gateway equals what was sent.
      await waitForValue('the batch to be queryable', async () => {
        const { body } = await graphql<MetricsData>(DEMO_KEY, METRICS_QUERY, {
          id: batch.accountId,
          from: new Date(batch.from).toISOString(),
          to: new Date(batch.to).toISOString(),
          g: 'MONTH',
        });
        const total = body.data?.account?.metrics.series.find(
          (s) => s.metric === 'APP_EVENTS',
        )?.total;
        return total === appEvents ? true : undefined;
      });
    });

    // Unaligned ends: 17 min 3.5 s after the first hour, 41 min before the last.
    const from = batch.from + 17 * 60_000 + 3500;
    const to = batch.to - 41 * 60_000;
    const cases: { grain: LabelGrain; zone?: string }[] = [
      { grain: 'hour' },
      { grain: 'day' },
      { grain: 'week' },
      { grain: 'month' },
      { grain: 'day', zone: 'Asia/Kolkata' },
      { grain: 'hour', zone: 'Asia/Kolkata' },
    ];
    for (const { grain, zone } of cases) {
      const name = zone ?? `the organisation's zone (${DEMO_TIME_ZONE})`;
      test(`every ${grain} bucket in ${name} and total equals a recount of the batch`, async () => {
        const { body } = await graphql<MetricsData>(DEMO_KEY, METRICS_QUERY, {
          id: batch.accountId,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          g: grain.toUpperCase(),
          tz: zone,
        });
        expect(body.errors).toBeUndefined();
        const metrics = body.data?.account?.metrics;
        expect(metrics?.timeZone).toBe(zone ?? DEMO_TIME_ZONE);
        const label = (ms: number) => localLabel(ms, grain, zone ?? DEMO_TIME_ZONE);
        const expected = recountBy(batch.events, label, { from, to });
        const series = metrics?.series ?? [];
        expect(series).toHaveLength(METRICS.length);
        for (const s of series) {
          const metric = s.metric.toLowerCase() as Parameters<typeof expected.get>[0];
          const want = expected.get(metric) ?? new Map<string, number>();
          const labels = s.points.map((p) => label(Date.parse(p.at)));
          for (const key of want.keys()) expect(labels, `${s.metric} ${key}`).toContain(key);
          for (const p of s.points) {
            const at = label(Date.parse(p.at));
            expect(p.value, `${s.metric} at ${at}`).toBe(want.get(at) ?? 0);
          }
          const wantTotal =
            metric === 'unique_users'
              ? distinctUsersIn(batch.events, from, to)
              : [...want.values()].reduce((a, b) => a + b, 0);
          expect(s.total, `${s.metric} total`).toBe(wantTotal);
        }
        const newest = Math.max(
          ...batch.events.map((e) => Date.parse(e.occurredAt)).filter((t) => t >= from && t < to),
        );
        expect(metrics?.freshness.newestEventAt).toBe(new Date(newest).toISOString());
      });
    }

    test('a range compared with the period before it: both totals, the change and the percentage', async () => {
      // The batch's second half against its first.
      const middle = batch.from + Math.floor((batch.to - batch.from) / 2) + 123;
      const { body } = await graphql<MetricsData>(DEMO_KEY, METRICS_QUERY, {
        id: batch.accountId,
        from: new Date(middle).toISOString(),
        to: new Date(2 * middle - batch.from).toISOString(),
        g: 'WEEK',
        compare: 'PREVIOUS_PERIOD',
      });
      expect(body.errors).toBeUndefined();
      const sum = (a: number, b: number) => {
        const counts = recountBy(batch.events, () => 'all', { from: a, to: b });
        return (metric: string) => counts.get(metric as never)?.get('all') ?? 0;
      };
      const now = sum(middle, 2 * middle - batch.from);
      const before = sum(batch.from, middle);
      for (const s of body.data?.account?.metrics.series ?? []) {
        const metric = s.metric.toLowerCase();
        if (metric === 'unique_users') continue;
        expect(s.total, metric).toBe(now(metric));
        expect(s.previous?.total, metric).toBe(before(metric));
        expect(s.previous?.change, metric).toBe(now(metric) - before(metric));
        expect(s.previous?.changePercent, metric).toBe(
          before(metric) === 0 ? null : ((now(metric) - before(metric)) / before(metric)) * 100,
        );
      }
    });

    test('one query over several accounts: grouped by account, by platform, and not at all', async () => {
      const other = knownBatch({
        end: Date.now(),
        hours: 24 * 20,
        size: 600,
        seed: 5,
        platform: 'x',
      });
      await postAll(DEMO_KEY, other.events);
      const query = /* GraphQL */ `
        query ($ids: [ID!], $from: DateTime!, $to: DateTime!, $by: MetricsGroupBy!) {
          metrics(
            accounts: { ids: $ids }
            range: { from: $from, to: $to }
            granularity: DAY
            metrics: [LIKES, FOLLOWERS, APP_EVENTS, ENGAGEMENTS]
            groupBy: $by
          ) {
            accounts
            untrackedIds
            groups {
              account {
                id
              }
              platform
              series {
                metric
                total
              }
            }
          }
        }
      `;
      const ask = (by: string) =>
        graphql<{
          metrics: {
            accounts: number;
            untrackedIds: string[];
            groups: {
              account: { id: string } | null;
              platform: string | null;
              series: { metric: string; total: number }[];
            }[];
          };
        }>(DEMO_KEY, query, {
          ids: [batch.accountId, other.accountId, 'acct-nobody-tracks'],
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          by,
        });
      const totals = (events: readonly EventInput[]) => {
        const counts = recountBy(events, () => 'all', { from, to });
        return (metric: string) => counts.get(metric as never)?.get('all') ?? 0;
      };
      const mine = totals(batch.events);
      const theirs = totals(other.events);
      await waitForValue('the second account to be counted', async () => {
        const { body } = await ask('ACCOUNT');
        const group = body.data?.metrics.groups.find((g) => g.account?.id === other.accountId);
        return group?.series.find((s) => s.metric === 'APP_EVENTS')?.total === theirs('app_events')
          ? true
          : undefined;
      });
      const byAccount = (await ask('ACCOUNT')).body;
      expect(byAccount.errors).toBeUndefined();
      expect(byAccount.data?.metrics.accounts).toBe(2);
      expect(byAccount.data?.metrics.untrackedIds).toEqual(['acct-nobody-tracks']);
      const byPlatform = (await ask('PLATFORM')).body;
      const all = (await ask('NONE')).body;
      for (const metric of ['likes', 'followers', 'app_events', 'engagements']) {
        const pick = (series?: { metric: string; total: number }[]) =>
          series?.find((s) => s.metric === metric.toUpperCase())?.total;
        const groups = byAccount.data?.metrics.groups ?? [];
        expect(
          pick(groups.find((g) => g.account?.id === batch.accountId)?.series),
          `${metric} mine`,
        ).toBe(mine(metric));
        expect(
          pick(groups.find((g) => g.account?.id === other.accountId)?.series),
          `${metric} theirs`,
        ).toBe(theirs(metric));
        const platforms = byPlatform.data?.metrics.groups ?? [];
        expect(
          pick(platforms.find((g) => g.platform === 'INSTAGRAM')?.series),
          `${metric} instagram`,
        ).toBe(mine(metric));
        expect(pick(platforms.find((g) => g.platform === 'X')?.series), `${metric} x`).toBe(
          theirs(metric),
        );
        expect(pick(all.data?.metrics.groups[0]?.series), `${metric} all`).toBe(
          mine(metric) + theirs(metric),
        );
      }
      // An empty id list narrows nothing: every tracked account, these two among them.
      const everyone = await graphql<{ metrics: { groups: { account: { id: string } }[] } }>(
        DEMO_KEY,
        query,
        {
          ids: [],
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          by: 'ACCOUNT',
        },
      );
      const ids = everyone.body.data?.metrics.groups.map((g) => g.account.id) ?? [];
      expect(ids).toEqual(expect.arrayContaining([batch.accountId, other.accountId]));
      // Another organisation asking for the same ids gets nothing: it tracks none of them.
      const { body } = await graphql<{ metrics: { accounts: number; groups: unknown[] } }>(
        otherKey,
        query,
        {
          ids: [batch.accountId],
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          by: 'ACCOUNT',
        },
      );
      expect(body.data?.metrics).toMatchObject({ accounts: 0, groups: [] });
    });

    test('engagement rate by followers and by impressions equals a recount; without a basis it is null', async () => {
      const zone = DEMO_TIME_ZONE;
      const { body } = await graphql<{
        account: {
          metrics: Record<
            string,
            { total: number | null; points: { at: string; value: number | null }[] }
          >;
        };
      }>(
        DEMO_KEY,
        `
          query ($id: ID!, $from: DateTime!, $to: DateTime!) {
            account(id: $id) {
              metrics(range: { from: $from, to: $to }, granularity: DAY, metrics: [LIKES]) {
                followers: engagementRate {
                  total
                  points {
                    at
                    value
                  }
                }
                impressions: engagementRate(basis: IMPRESSIONS) {
                  total
                  points {
                    at
                    value
                  }
                }
                reach: engagementRate(basis: REACH) {
                  total
                  points {
                    at
                    value
                  }
                }
              }
            }
          }
        `,
        { id: batch.accountId, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      );
      expect(body.errors).toBeUndefined();
      const rates = body.data!.account.metrics;
      const label = (ms: number) => localLabel(ms, 'day', zone);
      const counts = recountBy(batch.events, label, { from, to });
      const engagements = counts.get('engagements')!;
      const impressions = counts.get('impressions')!;
      // Followers at the end of each bucket: the last snapshot at or before it.
      const snapshots = batch.events
        .flatMap((e) =>
          e.type === 'profile' ? [{ at: Date.parse(e.occurredAt), n: e.followers }] : [],
        )
        .sort((a, b) => a.at - b.at);
      const dayEnds = rates.followers!.points.map((p, i, all) =>
        i + 1 < all.length ? Date.parse(all[i + 1]!.at) : to,
      );
      const followersAt = (end: number) => snapshots.filter((s) => s.at < end).at(-1)?.n ?? 0;
      const levels = dayEnds.map(followersAt);
      const known = levels.filter((l) => l > 0);
      const close = (got: number | null | undefined, want: number | null) =>
        want === null ? expect(got).toBeNull() : expect(got).toBeCloseTo(want, 12);
      const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      close(
        rates.followers!.total,
        sum(engagements) / (known.reduce((a, b) => a + b, 0) / known.length),
      );
      rates.followers!.points.forEach((p, i) => {
        const e = engagements.get(label(Date.parse(p.at))) ?? 0;
        close(p.value, levels[i]! > 0 ? e / levels[i]! : null);
      });
      close(rates.impressions!.total, sum(engagements) / sum(impressions));
      for (const p of rates.impressions!.points) {
        const key = label(Date.parse(p.at));
        const basis = impressions.get(key) ?? 0;
        close(p.value, basis > 0 ? (engagements.get(key) ?? 0) / basis : null);
      }
      // The batch reports no reach at all.
      expect(rates.reach!.total).toBeNull();
      expect(rates.reach!.points.every((p) => p.value === null)).toBe(true);
    });

    test('follower growth: the net change and the growth rate per bucket equal a recount', async () => {
      const snapshots = batch.events
        .flatMap((e) =>
          e.type === 'profile' ? [{ at: Date.parse(e.occurredAt), n: e.followers }] : [],
        )
        .sort((a, b) => a.at - b.at);
      const levelBefore = (t: number) => snapshots.filter((s) => s.at < t).at(-1)?.n ?? 0;
      // From before the first snapshot (nothing to grow from), and from a week in.
      for (const start of [from, from + 7 * 86_400_000 + 1234]) {
        const { body } = await graphql<{
          account: {
            metrics: {
              series: {
                startLevel: number;
                points: { at: string; value: number }[];
                growthRate: { total: number | null; points: { value: number | null }[] };
              }[];
            };
          };
        }>(
          DEMO_KEY,
          `
            query ($id: ID!, $from: DateTime!, $to: DateTime!) {
              account(id: $id) {
                metrics(range: { from: $from, to: $to }, granularity: WEEK, metrics: [FOLLOWERS]) {
                  series {
                    startLevel
                    points {
                      at
                      value
                    }
                    growthRate {
                      total
                      points {
                        value
                      }
                    }
                  }
                }
              }
            }
          `,
          {
            id: batch.accountId,
            from: new Date(start).toISOString(),
            to: new Date(to).toISOString(),
          },
        );
        expect(body.errors).toBeUndefined();
        const followers = body.data!.account.metrics.series[0]!;
        const starts = followers.points.map((p, i) => (i === 0 ? start : Date.parse(p.at)));
        const ends = [...starts.slice(1), to];
        expect(followers.startLevel).toBe(levelBefore(start));
        followers.points.forEach((p, i) => {
          const change = levelBefore(ends[i]!) - levelBefore(starts[i]!);
          expect(p.value).toBe(change);
          const base = levelBefore(starts[i]!);
          const rate = followers.growthRate.points[i]!.value;
          if (base > 0) expect(rate).toBeCloseTo(change / base, 12);
          else expect(rate).toBeNull();
        });
        const base = levelBefore(start);
        if (base > 0) {
          expect(followers.growthRate.total).toBeCloseTo((levelBefore(to) - base) / base, 12);
        } else {
          expect(followers.growthRate.total).toBeNull();
        }
      }
    });

    test('the granularity defaults to DAY', async () => {
      const { body } = await graphql<{
        account: { metrics: { granularity: string; series: unknown[] } };
      }>(
        DEMO_KEY,
        `
          query ($id: ID!, $from: DateTime!, $to: DateTime!) {
            account(id: $id) {
              metrics(range: { from: $from, to: $to }, metrics: [LIKES]) {
                granularity
                series {
                  metric
                  total
                }
              }
            }
          }
        `,
        {
          id: batch.accountId,
          from: new Date(batch.from).toISOString(),
          to: new Date(batch.to).toISOString(),
        },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data?.account.metrics.granularity).toBe('DAY');
      expect(body.data?.account.metrics.series).toHaveLength(1);
    });

    test("a second organisation's key sees none of it", async () => {
      const { body } = await graphql<MetricsData>(otherKey, METRICS_QUERY, {
        id: batch.accountId,
        from: new Date(batch.from).toISOString(),
        to: new Date(batch.to).toISOString(),
        g: 'MONTH',
      });
      expect(body.errors).toBeUndefined();
      expect(body.data?.account).toBeNull();
    });

    test('no key, no answer', async () => {
      const { status, body } = await graphql('', '{ accounts { id } }');
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    test("a valid key sent straight to a subgraph's port is refused: subgraphs answer only the gateway", async () => {
      const subgraphs = Object.entries(loupe.urls.subgraphs);
      expect(subgraphs.map(([name]) => name).sort()).toEqual([...SUBGRAPHS].sort());
      for (const [name, subgraphUrl] of subgraphs) {
        const res = await fetch(subgraphUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': DEMO_KEY },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
        const body = (await res.json()) as GraphQLResponse<unknown>;
        expect({ name, status: res.status, code: body.errors?.[0]?.extensions?.code }).toEqual({
          name,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
        expect(body.errors?.[0]?.message).toMatch(/answer only the gateway/);
      }
    });
  });

  describe('organisation administration through the API', () => {
    interface CreatedKey {
      createApiKey: { key: string; apiKey: { id: string; role: string; client: string | null } };
    }
    const CREATE = /* GraphQL */ `
      mutation ($input: CreateApiKeyInput!) {
        createApiKey(input: $input) {
          key
          apiKey {
            id
            role
            client
          }
        }
      }
    `;
    const create = (key: string, input: Record<string, unknown>) =>
      graphql<CreatedKey>(key, CREATE, { input });
    const codeOf = (body: GraphQLResponse<unknown>) => body.errors?.[0]?.extensions?.code;

    test('an admin key creates keys of each role, and each role gets only what it may do', async () => {
      const { orgId, apiKey: admin } = await loupe.createOrganisation('Keys org');
      const member = await create(admin, { name: 'dashboards', role: 'MEMBER' });
      expect(member.body.errors).toBeUndefined();
      const memberKey = member.body.data!.createApiKey.key;
      expect(member.body.data!.createApiKey.apiKey).toMatchObject({ role: 'MEMBER', client: null });
      const ingest = await create(admin, { name: 'ios app', role: 'INGEST' });
      const ingestKey = ingest.body.data!.createApiKey.key;
      const registered = await graphql(
        admin,
        'mutation { registerPartnerClient(name: "acme") { name } }',
      );
      expect(registered.body.errors).toBeUndefined();
      const partner = await create(admin, { name: 'agency', role: 'PARTNER', client: 'acme' });
      expect(partner.body.errors).toBeUndefined();
      expect(partner.body.data!.createApiKey.apiKey).toMatchObject({
        role: 'PARTNER',
        client: 'acme',
      });

      // The member reads its own organisation, and cannot administer it.
      const org = await graphql<{ organisation: { id: string; name: string } }>(
        memberKey,
        '{ organisation { id name timeZone } }',
      );
      expect(org.body.data?.organisation).toEqual({ id: orgId, name: 'Keys org', timeZone: 'UTC' });
      // Refused in a resolver: a field error, so 200 with the error (GraphQL over HTTP).
      const refused = await create(memberKey, { name: 'sneaky', role: 'ADMIN' });
      expect(codeOf(refused.body)).toBe('FORBIDDEN');
      expect(refused.body.errors?.[0]?.message).toMatch(/member key cannot create keys/);
      expect(codeOf((await graphql(memberKey, '{ apiKeys { id } }')).body)).toBe('FORBIDDEN');

      // The ingest key posts events and cannot query; the member key cannot post.
      const event = {
        id: `keys-${Date.now()}`,
        type: 'engagement',
        platform: 'x',
        accountId: 'keys-acct',
        metric: 'likes',
        mode: 'delta',
        value: 1,
        occurredAt: new Date().toISOString(),
      };
      expect((await post(ingestKey, { events: [event] })).status).toBe(200);
      expect((await post(memberKey, { events: [event] })).status).toBe(403);
      expect(codeOf((await graphql(ingestKey, '{ accounts { id } }')).body)).toBe('FORBIDDEN');

      // Listing shows every key once, by prefix, and never a key itself.
      const listed = await graphql<{ apiKeys: { id: string; prefix: string; role: string }[] }>(
        admin,
        '{ apiKeys { id name role client prefix createdAt revokedAt } }',
      );
      expect(listed.body.data?.apiKeys.map((k) => k.role).sort()).toEqual(
        ['ADMIN', 'INGEST', 'MEMBER', 'PARTNER'].sort(),
      );
      for (const secret of [memberKey, ingestKey, partner.body.data!.createApiKey.key]) {
        expect(JSON.stringify(listed.body)).not.toContain(secret);
        expect(listed.body.data?.apiKeys.some((k) => secret.startsWith(k.prefix))).toBe(true);
      }
    });

    test('bad input is BAD_USER_INPUT with the reason, and creates nothing', async () => {
      const { apiKey: admin } = await loupe.createOrganisation('Bad input org');
      for (const [input, reason] of [
        [{ name: 'p', role: 'PARTNER' }, /needs input.client/],
        [{ name: 'm', role: 'MEMBER', client: 'acme' }, /for PARTNER keys only/],
        [{ name: '   ', role: 'MEMBER' }, /input.name must have 1 to 200/],
        [{ name: 'x'.repeat(201), role: 'MEMBER' }, /input.name must have 1 to 200/],
        [{ name: 'nul\u0000', role: 'MEMBER' }, /no NUL/],
      ] as const) {
        const reply = await create(admin, input);
        expect(codeOf(reply.body)).toBe('BAD_USER_INPUT');
        expect(reply.body.errors?.[0]?.message).toMatch(reason);
      }
      const listed = await graphql<{ apiKeys: unknown[] }>(admin, '{ apiKeys { id } }');
      expect(listed.body.data?.apiKeys).toHaveLength(1);
    });

    test('a revoked key is refused on its next request; another organisation cannot revoke it', async () => {
      const { apiKey: admin } = await loupe.createOrganisation('Revoking org');
      const made = await create(admin, { name: 'short-lived', role: 'MEMBER' });
      const { key, apiKey } = made.body.data!.createApiKey;
      expect((await graphql(key, '{ accounts { id } }')).status).toBe(200); // now cached
      const REVOKE = 'mutation ($id: ID!) { revokeApiKey(id: $id) }';
      const foreign = await graphql<{ revokeApiKey: boolean }>(otherKey, REVOKE, { id: apiKey.id });
      expect(foreign.body.data?.revokeApiKey).toBe(false);
      expect((await graphql(key, '{ accounts { id } }')).status).toBe(200);

      const revoked = await graphql<{ revokeApiKey: boolean }>(admin, REVOKE, { id: apiKey.id });
      expect(revoked.body.data?.revokeApiKey).toBe(true);
      const after = await graphql(key, '{ accounts { id } }');
      expect({ status: after.status, code: codeOf(after.body) }).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      const again = await graphql<{ revokeApiKey: boolean }>(admin, REVOKE, { id: apiKey.id });
      expect(again.body.data?.revokeApiKey).toBe(false);
    });

    test('setTimeZone changes the zone answers are bucketed in, at once', async () => {
      const { apiKey: admin } = await loupe.createOrganisation('Zone org');
      const event = {
        id: `zone-${Date.now()}`,
        type: 'engagement',
        platform: 'x',
        accountId: 'zone-acct',
        metric: 'likes',
        mode: 'delta',
        value: 1,
        occurredAt: new Date().toISOString(),
      };
      expect((await post(admin, { events: [event] })).status).toBe(200);
      const zoneOfAnswers = async () => {
        const { body } = await graphql<MetricsData>(admin, METRICS_QUERY, {
          id: 'zone-acct',
          from: '2026-03-01T00:00:00Z',
          to: '2026-03-02T00:00:00Z',
          g: 'DAY',
        });
        expect(body.errors).toBeUndefined();
        return body.data?.account?.metrics.timeZone;
      };
      expect(await zoneOfAnswers()).toBe('UTC'); // the verified caller is cached with it now

      const SET = 'mutation ($tz: String!) { setTimeZone(timeZone: $tz) { timeZone } }';
      const bad = await graphql(admin, SET, { tz: 'Mars/Olympus_Mons' });
      expect(codeOf(bad.body)).toBe('BAD_USER_INPUT');
      expect(bad.body.errors?.[0]?.message).toMatch(/not an IANA time zone/);
      const set = await graphql<{ setTimeZone: { timeZone: string } }>(admin, SET, {
        tz: 'Asia/Kolkata',
      });
      expect(set.body.data?.setTimeZone.timeZone).toBe('Asia/Kolkata');
      expect(await zoneOfAnswers()).toBe('Asia/Kolkata');
    });
  });

  describe('Automatic Persisted Queries, with @apollo/client and its persisted-queries link', () => {
    interface Sent {
      method: string;
      url: string;
      body?: { query?: string; extensions?: unknown };
    }
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

    function apqClient(sent: Sent[], useGETForHashedQueries: boolean) {
      const recording: typeof fetch = async (input, init) => {
        sent.push({
          method: init?.method ?? 'GET',
          url: input instanceof Request ? input.url : input.toString(),
          ...(typeof init?.body === 'string' && { body: JSON.parse(init.body) as Sent['body'] }),
        });
        return fetch(input, init);
      };
      return new ApolloClient({
        cache: new InMemoryCache(),
        defaultOptions: { query: { fetchPolicy: 'no-cache' } },
        link: new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
          new HttpLink({
            uri: url('gateway'),
            headers: { 'x-api-key': DEMO_KEY },
            fetch: recording,
          }),
        ),
      });
    }

    // A document no earlier run registered, so the first client must register it.
    const fresh = () =>
      gql(`query Tracked { accounts { id } n${randomBytes(4).toString('hex')}: accounts { id } }`);

    test.each([
      ['POST', false],
      ['GET', true],
    ])(
      'over %s: a hash alone, PERSISTED_QUERY_NOT_FOUND, the document once; then the hash suffices',
      async (method, useGET) => {
        const query = fresh();
        const first: Sent[] = [];
        const registered = await apqClient(first, useGET).query({ query });
        expect(registered.error).toBeUndefined();
        expect(first.map((r) => [r.method, r.body?.query !== undefined])).toEqual([
          [method, false],
          ['POST', true],
        ]);

        const second: Sent[] = [];
        const again = await apqClient(second, useGET).query({ query });
        expect(second.map((r) => [r.method, r.body?.query !== undefined])).toEqual([
          [method, false],
        ]);
        if (useGET)
          expect(new URL(second[0]!.url).searchParams.get('extensions')).toMatch(/sha256Hash/);
        expect(again.data).toEqual(registered.data);
        expect(again.data).toHaveProperty('accounts');
      },
    );

    test('an unknown hash is PERSISTED_QUERY_NOT_FOUND; a document that does not match its hash is refused', async () => {
      const ask = (body: unknown) =>
        fetch(url('gateway'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': DEMO_KEY },
          body: JSON.stringify(body),
        }).then(async (res) => ({
          status: res.status,
          body: (await res.json()) as GraphQLResponse<unknown>,
        }));
      const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
      const unknown = await ask({ extensions: persisted(sha256(`{ nothing${Date.now()} }`)) });
      expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const mismatch = await ask({
        query: '{ accounts { id } }',
        extensions: persisted(sha256('{ something { else } }')),
      });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.errors?.[0]?.message).toMatch(/does not match/);
    });
  });

  describe('trusted documents for partners', () => {
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const ACCOUNTS = 'query PartnerAccounts { accounts { id } }';
    const ORGANISATION = 'query PartnerOrganisation { organisation { name } }';
    const manifest = (...bodies: string[]) =>
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: bodies.map((body) => ({
          id: sha(body),
          name: /query (\w+)/.exec(body)![1],
          type: 'query',
          body,
        })),
      });
    const byId = (body: string) => ({
      extensions: { persistedQuery: { version: 1, sha256Hash: sha(body) } },
    });
    async function send(key: string, body: unknown) {
      const res = await fetch(url('gateway'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        body: (await res.json()) as GraphQLResponse<Record<string, unknown>>,
      };
    }
    async function admin<T = Record<string, unknown>>(key: string, query: string, variables = {}) {
      const { body } = await graphql<T>(key, query, variables);
      expect(body.errors).toBeUndefined();
      return body.data!;
    }
    const REGISTER =
      'mutation ($n: String!, $m: ClientMode!) { registerPartnerClient(name: $n, mode: $m) { name mode } }';
    const PUBLISH =
      'mutation ($c: String!, $m: String!) { publishManifest(client: $c, manifest: $m) { activeVersion versions { version operationCount } } }';
    const partnerKey = async (key: string, client: string) =>
      (
        await admin<{ createApiKey: { key: string } }>(
          key,
          'mutation ($c: String!) { createApiKey(input: { name: "partner", role: PARTNER, client: $c }) { key } }',
          { c: client },
        )
      ).createApiKey.key;

    test("a partner key runs its client's operations by id, over POST and GET, and nothing else", async () => {
      const { apiKey: owner } = await loupe.createOrganisation('Partner org');
      await admin(owner, REGISTER, { n: 'acme', m: 'ENFORCE' });
      await admin(owner, REGISTER, { n: 'globex', m: 'ENFORCE' });
      const published = await admin<{ publishManifest: { activeVersion: number } }>(
        owner,
        PUBLISH,
        {
          c: 'acme',
          m: manifest(ACCOUNTS),
        },
      );
      expect(published.publishManifest.activeVersion).toBe(1);
      await admin(owner, PUBLISH, { c: 'globex', m: manifest(ORGANISATION) });
      const acme = await partnerKey(owner, 'acme');

      const posted = await send(acme, byId(ACCOUNTS));
      expect(posted.status).toBe(200);
      expect(posted.body.data).toEqual({ accounts: [] });
      const params = new URLSearchParams({ extensions: JSON.stringify(byId(ACCOUNTS).extensions) });
      const got = await fetch(`${url('gateway')}?${params.toString()}`, {
        headers: { 'x-api-key': acme, 'content-type': 'application/json' },
      });
      expect(got.status).toBe(200);
      expect(((await got.json()) as GraphQLResponse<unknown>).data).toEqual({ accounts: [] });

      const codeAndStatus = async (body: unknown) => {
        const reply = await send(acme, body);
        return [reply.status, reply.body.errors?.[0]?.extensions?.code, reply.body.data];
      };
      // The very text of a published operation, sent in full: ids only.
      expect(await codeAndStatus({ query: ACCOUNTS })).toEqual([
        403,
        'PERSISTED_QUERY_ID_REQUIRED',
        undefined,
      ]);
      // Another client's id, and an id nobody published.
      expect(await codeAndStatus(byId(ORGANISATION))).toEqual([
        403,
        'PERSISTED_QUERY_NOT_IN_LIST',
        undefined,
      ]);
      expect(await codeAndStatus(byId('{ nothing }'))).toEqual([
        403,
        'PERSISTED_QUERY_NOT_IN_LIST',
        undefined,
      ]);

      const socket = wsClient(acme);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        socket.on('closed', (event) => resolve(event as { code: number; reason: string })),
      );
      socket.subscribe(
        { query: 'subscription { metricTicks(accountIds: ["x"]) { delta } }' },
        {
          next: () => undefined,
          error: () => undefined,
          complete: () => undefined,
        },
      );
      const event = await closed;
      expect(event.code).toBe(4403);
      expect(event.reason).toMatch(/cannot subscribe/);
      await socket.dispose();
    });

    test('each publish is a new version; restoring the previous one brings back what it held', async () => {
      const { apiKey: owner } = await loupe.createOrganisation('Versions org');
      await admin(owner, REGISTER, { n: 'acme', m: 'ENFORCE' });
      await admin(owner, PUBLISH, { c: 'acme', m: manifest(ACCOUNTS, ORGANISATION) });
      const second = await admin<{
        publishManifest: {
          activeVersion: number;
          versions: { version: number; operationCount: number }[];
        };
      }>(owner, PUBLISH, { c: 'acme', m: manifest(ORGANISATION) });
      expect(second.publishManifest).toEqual({
        activeVersion: 2,
        versions: [
          { version: 2, operationCount: 1 },
          { version: 1, operationCount: 2 },
        ],
      });
      const acme = await partnerKey(owner, 'acme');
      expect((await send(acme, byId(ACCOUNTS))).body.errors?.[0]?.extensions?.code).toBe(
        'PERSISTED_QUERY_NOT_IN_LIST',
      );
      await admin(
        owner,
        'mutation { restoreManifest(client: "acme", version: 1) { activeVersion } }',
      );
      expect((await send(acme, byId(ACCOUNTS))).body.data).toEqual({ accounts: [] });
      const missing = await graphql(
        owner,
        'mutation { restoreManifest(client: "acme", version: 9) { activeVersion } }',
      );
      expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

    test('an audit client runs anything and counts what its manifest does not hold', async () => {
      const { apiKey: owner } = await loupe.createOrganisation('Audit org');
      await admin(owner, REGISTER, { n: 'legacy', m: 'AUDIT' });
      await admin(owner, PUBLISH, { c: 'legacy', m: manifest(ACCOUNTS) });
      const legacy = await partnerKey(owner, 'legacy');
      const adHoc = 'query AdHoc { organisation { name } }';
      for (let i = 0; i < 3; i++) {
        expect((await send(legacy, { query: adHoc })).body.data).toEqual({
          organisation: { name: 'Audit org' },
        });
      }
      expect((await send(legacy, { query: ACCOUNTS })).body.data).toEqual({ accounts: [] });
      expect((await send(legacy, byId(ACCOUNTS))).body.data).toEqual({ accounts: [] });
      type Recorded = { hash: string; name: string; count: number }[];
      const recorded = await waitForValue('three recorded runs', async () => {
        const data = await admin<{ partnerClients: { unknownOperations: Recorded }[] }>(
          owner,
          '{ partnerClients { unknownOperations { hash name count } } }',
        );
        const ops = data.partnerClients[0]!.unknownOperations;
        return ops[0]?.count === 3 ? ops : undefined;
      });
      expect(recorded).toEqual([{ hash: sha(adHoc), name: 'AdHoc', count: 3 }]);
      // Moved to enforce, the ad-hoc operation is refused.
      await admin(
        owner,
        'mutation { setPartnerClientMode(name: "legacy", mode: ENFORCE) { mode } }',
      );
      expect((await send(legacy, { query: adHoc })).body.errors?.[0]?.extensions?.code).toBe(
        'PERSISTED_QUERY_ID_REQUIRED',
      );
    });

    test("another organisation's admin sees none of a client and cannot publish, restore or change it", async () => {
      const { apiKey: owner } = await loupe.createOrganisation('Owning org');
      const { apiKey: stranger } = await loupe.createOrganisation('Stranger org');
      await admin(owner, REGISTER, { n: 'shared-name', m: 'ENFORCE' });
      await admin(owner, PUBLISH, { c: 'shared-name', m: manifest(ACCOUNTS) });
      const seen = await admin<{ partnerClients: unknown[]; apiKeys: { id: string }[] }>(
        stranger,
        '{ partnerClients { name } apiKeys { id } }',
      );
      expect(seen.partnerClients).toEqual([]);
      const ownerKeys = await admin<{ apiKeys: { id: string }[] }>(owner, '{ apiKeys { id } }');
      expect(seen.apiKeys.map((k) => k.id)).not.toEqual(
        expect.arrayContaining(ownerKeys.apiKeys.map((k) => k.id)),
      );
      const publish = await graphql(stranger, PUBLISH, {
        c: 'shared-name',
        m: manifest(ORGANISATION),
      });
      const restore = await graphql(
        stranger,
        'mutation { restoreManifest(client: "shared-name", version: 1) { activeVersion } }',
      );
      const mode = await graphql(
        stranger,
        'mutation { setPartnerClientMode(name: "shared-name", mode: AUDIT) { mode } }',
      );
      for (const reply of [publish, restore, mode]) {
        expect(reply.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      }
      const after = await admin<{ partnerClients: { mode: string; activeVersion: number }[] }>(
        owner,
        '{ partnerClients { mode activeVersion } }',
      );
      expect(after.partnerClients).toEqual([{ mode: 'ENFORCE', activeVersion: 1 }]);
    });

    test('a manifest that does not hold up is refused with every reason, and nothing is published', async () => {
      const { apiKey: owner } = await loupe.createOrganisation('Bad manifest org');
      await admin(owner, REGISTER, { n: 'acme', m: 'ENFORCE' });
      const bad = JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [
          { id: 'a', name: 'Nope', type: 'query', body: 'query Nope { nope }' },
          { id: 'b', name: 'Broken', type: 'query', body: 'query Broken {' },
          { id: 'c', name: 'Ticks', type: 'subscription', body: 'subscription Ticks { x }' },
          { id: 'a', name: 'Twice', type: 'query', body: 'query Twice { accounts { id } }' },
        ],
      });
      const reply = await graphql(owner, PUBLISH, { c: 'acme', m: bad });
      expect(reply.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const message = reply.body.errors?.[0]?.message ?? '';
      for (const reason of [
        /Cannot query field "nope"/,
        /Syntax Error/,
        /subscriptions are not served/,
        /listed twice/,
      ]) {
        expect(message).toMatch(reason);
      }
      for (const text of [
        '{}',
        'not json',
        JSON.stringify({ format: 'other', version: 1, operations: [] }),
      ]) {
        const refused = await graphql(owner, PUBLISH, { c: 'acme', m: text });
        expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const unknownClient = await graphql(owner, PUBLISH, { c: 'nobody', m: manifest(ACCOUNTS) });
      expect(unknownClient.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const clients = await admin<{ partnerClients: { activeVersion: number | null }[] }>(
        owner,
        '{ partnerClients { activeVersion } }',
      );
      expect(clients.partnerClients).toEqual([{ activeVersion: null }]);
      // A partner key needs a registered client.
      const stray = await graphql(
        owner,
        'mutation { createApiKey(input: { name: "p", role: PARTNER, client: "nobody" }) { key } }',
      );
      expect(stray.body.errors?.[0]?.message).toMatch(/register it first/);
    });
  });

  describe('health, readiness, metrics and request ids', () => {
    test('every door answers /health and /ready with each store checked', async () => {
      const doors = [url('gateway'), url('ingest'), ...Object.values(loupe.urls.subgraphs)];
      for (const door of doors) {
        const health = await fetch(new URL('/health', door));
        expect(health.status).toBe(200);
        const ready = await fetch(new URL('/ready', door));
        const body = (await ready.json()) as { status: string; checks: Record<string, string> };
        expect({ door, status: ready.status, body: body.status }).toEqual({
          door,
          status: 200,
          body: 'ready',
        });
        expect(Object.keys(body.checks)).toEqual(
          expect.arrayContaining(['olap', 'meta', 'live', 'bus', 'search']),
        );
        expect(Object.values(body.checks).every((c) => c === 'ok')).toBe(true);
      }
      const gateway = (await (await fetch(new URL('/ready', url('gateway')))).json()) as {
        checks: Record<string, string>;
      };
      expect(gateway.checks['supergraph']).toBe('ok');
    });

    test('/metrics counts requests by operation and code, subgraph fetches, collector events and consumer lag', async () => {
      await graphql(DEMO_KEY, 'query MetricsProbe { accounts { id } }');
      await graphql('not-a-key', 'query MetricsProbe { accounts { id } }');
      await post(DEMO_KEY, { events: [{ nope: true }] });
      const text = await (await fetch(new URL('/metrics', url('gateway')))).text();
      expect(text).toMatch(
        /loupe_graphql_requests_total\{server="gateway",operation="MetricsProbe",code="OK"\} [1-9]/,
      );
      expect(text).toMatch(
        /loupe_graphql_request_duration_seconds_bucket\{le="[^"]+",server="gateway",operation="MetricsProbe"\}/,
      );
      expect(text).toMatch(
        /loupe_subgraph_fetch_duration_seconds_count\{subgraph="audience",status="(200|local)"\} [1-9]/,
      );
      expect(text).toMatch(/loupe_collector_events_total\{result="rejected"\} [1-9]/);
      expect(text).toMatch(/loupe_cache_lookups_total\{cache="api-keys",result="hit"\} [1-9]/);
      expect(text).toMatch(/loupe_consumer_lag_messages\{group="[^"]+",partition="\d+"\} \d+/);
    });

    test("every answer carries a request id: the caller's own when it gives one", async () => {
      const mine = await fetch(url('gateway'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': DEMO_KEY,
          'x-request-id': 'trace-me-42',
        },
        body: JSON.stringify({ query: '{ accounts { id } }' }),
      });
      expect(mine.headers.get('x-request-id')).toBe('trace-me-42');
      const made = await fetch(url('gateway'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': DEMO_KEY,
          'x-request-id': 'bad id with spaces',
        },
        body: JSON.stringify({ query: '{ accounts { id } }' }),
      });
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const collector = await fetch(`${url('ingest')}/v1/events`, { method: 'POST' });
      expect(collector.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('live ticks through the gateway', () => {
    test('a subscriber receives ticks for events posted after it subscribed; another org does not', async () => {
      const accountId = `live-${Date.now()}`;
      const mine = wsClient(DEMO_KEY);
      const theirs = wsClient(otherKey);
      const query = `subscription ($ids: [ID!]!) { metricTicks(accountIds: $ids) { account { id } metric delta hourValue at } }`;
      const received: unknown[] = [];
      const leaked: unknown[] = [];
      const subscribed = (client: Client, sink: unknown[]) =>
        new Promise<() => void>((resolve, reject) => {
          const dispose = client.subscribe(
            { query, variables: { ids: [accountId] } },
            { next: (v) => void sink.push(v), error: reject, complete: () => undefined },
          );
          // graphql-ws acknowledges the connection before the subscription is live upstream.
          client.on('connected', () => setTimeout(() => resolve(dispose), 300));
        });
      const stopMine = await subscribed(mine, received);
      const stopTheirs = await subscribed(theirs, leaked);

      const now = Date.now();
      const events: EventInput[] = [1, 2, 3].map((i) => ({
        id: `${accountId}-${i}`,
        type: 'engagement',
        platform: 'tiktok',
        accountId,
        metric: 'views',
        mode: 'delta',
        value: 10 * i,
        occurredAt: new Date(now).toISOString(),
      }));
      await postAll(DEMO_KEY, events);

      type TickMessage = {
        data?: { metricTicks: { account: { id: string }; metric: string; delta: number } };
      };
      // The three events may arrive in one tick or several; together they must carry all 60 views.
      await waitForValue(
        'ticks worth 60 views',
        async () => {
          const sum = (received as TickMessage[]).reduce(
            (a, m) => a + (m.data?.metricTicks.delta ?? 0),
            0,
          );
          return sum === 60 ? true : undefined;
        },
        10_000,
      );
      for (const message of received as TickMessage[]) {
        expect(message.data?.metricTicks).toMatchObject({
          account: { id: accountId },
          metric: 'VIEWS',
        });
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(leaked).toEqual([]);
      stopMine();
      stopTheirs();
      await mine.dispose();
      await theirs.dispose();
    });
  });
}
