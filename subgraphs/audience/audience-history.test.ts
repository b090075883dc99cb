// Profile history, as-of answers, demographics over time and suppression, checked against a
// recount of the raw snapshots sent (out of order, repeated, with a handle change) on chDB.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toEventRow } from '../../ingest/pipeline/event-rows.ts';
import { createApiKeyAuthenticator } from '../../lib/auth/api-key.auth.ts';
import type { Authenticator } from '../../lib/auth/caller.ts';
import { loadConfig } from '../../lib/config.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import {
  createApiKey,
  createOrganisation,
  upsertTrackedAccounts,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { applyOlapSchema } from '../../lib/olap/olap-schema.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';
import { createAudienceSubgraph } from './server.ts';

const T0 = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

type ProfileEvent = Extract<EventInput, { type: 'profile' }>;
type AudienceEvent = Extract<EventInput, { type: 'audience' }>;
type Dim = 'age' | 'gender' | 'country' | 'city' | 'interests';
const DIMS: Dim[] = ['age', 'gender', 'country', 'city', 'interests'];

let seq = 0;
const profile = (
  accountId: string,
  day: number,
  followers: number,
  handle = '@shop',
  following = 10,
): ProfileEvent => ({
  id: `p-${++seq}`,
  type: 'profile',
  platform: 'instagram',
  accountId,
  handle,
  displayName: 'Shop',
  followers,
  following,
  postCount: 40,
  occurredAt: iso(T0 + day * DAY),
});
const audience = (
  accountId: string,
  day: number,
  dims: Partial<Record<Dim, Record<string, number>>>,
): AudienceEvent => ({
  id: `a-${++seq}`,
  type: 'audience',
  platform: 'instagram',
  accountId,
  occurredAt: iso(T0 + day * DAY),
  ...dims,
});

// Days 0..12: repeats (1, 3, 6, 7), a handle change (day 4), a change back to earlier values
// (day 9 equals day 2's followers but keeps the new handle), and a following-only change (day 11).
const PROFILES: ProfileEvent[] = [
  profile('shop', 0, 1000),
  profile('shop', 1, 1000),
  profile('shop', 2, 1010),
  profile('shop', 3, 1010),
  profile('shop', 4, 1010, '@shop.new'),
  profile('shop', 5, 1020, '@shop.new'),
  profile('shop', 6, 1020, '@shop.new'),
  profile('shop', 7, 1020, '@shop.new'),
  profile('shop', 8, 1030, '@shop.new'),
  profile('shop', 9, 1010, '@shop.new'),
  profile('shop', 10, 1010, '@shop.new'),
  profile('shop', 11, 1010, '@shop.new', 11),
  profile('shop', 12, 1010, '@shop.new', 11),
];
const AUDIENCES: AudienceEvent[] = [
  audience('shop', 0.5, { age: { '18-24': 300, '25-34': 700 }, gender: { f: 0.6, m: 0.4 } }),
  audience('shop', 3.5, { age: { '18-24': 310, '25-34': 690, '35-44': 10 } }),
  audience('shop', 5.5, { country: { FR: 0.5, DE: 0.45, IT: 0.05 }, gender: { f: 0.5, m: 0.5 } }),
  audience('shop', 8.5, { age: { '18-24': 400, '25-34': 630 }, city: { Paris: 1 } }),
];
/** Org B's account of the same id, with its own history. */
const OTHER_PROFILES: ProfileEvent[] = [
  profile('shop', 1, 9000, '@b-shop'),
  profile('shop', 6, 9500, '@b-shop'),
];
const OTHER_ORG: EventInput[] = [
  ...OTHER_PROFILES,
  audience('shop', 2, { interests: { chess: 1 } }),
];

/** Deterministic shuffle: the snapshots reach the store in no particular order. */
function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// --- The recount: straight from the events sent, without the code under test. ---

const at = (e: EventInput) => Date.parse(e.occurredAt);
const values = (p: ProfileEvent) =>
  [p.handle, p.displayName, p.followers, p.following, p.postCount].join('|');

function profileAsOf(events: readonly ProfileEvent[], instant: number): ProfileEvent | null {
  let best: ProfileEvent | null = null;
  for (const e of events) if (at(e) <= instant && (!best || at(e) > at(best))) best = e;
  return best;
}

/** Versions: each instant where the profile as of it differs from the one just before. */
function recountVersions(events: readonly ProfileEvent[]) {
  const instants = [...new Set(events.map(at))].sort((a, b) => a - b);
  const starts = instants.filter((t) => {
    const before = profileAsOf(events, t - 1);
    return !before || values(before) !== values(profileAsOf(events, t)!);
  });
  return starts.map((validFrom, i) => {
    const p = profileAsOf(events, validFrom)!;
    const validTo = starts[i + 1] ?? null;
    const inVersion = instants.filter((t) => t >= validFrom && (validTo === null || t < validTo));
    return {
      handle: p.handle,
      displayName: p.displayName,
      followers: p.followers,
      following: p.following,
      postCount: p.postCount,
      validFrom: iso(validFrom),
      validTo: validTo === null ? null : iso(validTo),
      lastObservedAt: iso(Math.max(...inVersion)),
    };
  });
}

/** Each dimension as last reported by `instant`, with counts from the followers at its time. */
function recountAudience(instant: number, minBucket = 100) {
  const out: Record<string, unknown[]> = {};
  for (const d of DIMS) {
    const last = AUDIENCES.filter((a) => a[d] && at(a) <= instant).sort((a, b) => at(b) - at(a))[0];
    const buckets = last?.[d] ?? {};
    const sum = Object.values(buckets).reduce((a, b) => a + b, 0);
    const followers = last ? (profileAsOf(PROFILES, at(last))?.followers ?? null) : null;
    const rows = Object.entries(buckets).map(([key, value]) => {
      const count = followers === null ? null : Math.round((value * followers) / sum);
      return count === null || count < minBucket
        ? { key, value: null, share: null, count: null, suppressed: true }
        : { key, value, share: value / sum, count, suppressed: false };
    });
    out[d] = [
      ...rows.filter((r) => !r.suppressed).sort((a, b) => (b.value ?? 0) - (a.value ?? 0)),
      ...rows.filter((r) => r.suppressed).sort((a, b) => (a.key < b.key ? -1 : 1)),
    ];
  }
  return out;
}

// --- The subgraph over HTTP on chDB. ---

let olap: Olap;
let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let strict: ServedGraphQL;
let keyA: string;
let keyB: string;

async function insert(orgId: string, events: readonly EventInput[]) {
  await olap.insert(
    'events',
    events.map((event) => toEventRow({ orgId, receivedAt: at(event) + 1000, event })),
  );
}

const gql = <T>(key: string, query: string, variables = {}, url = served.url) =>
  postAsGateway<T>(authenticate, url, key, query, variables);

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-audience-history-')) });
  await applyOlapSchema(olap);
  // Every insert stays its own part: readers must not rely on merges.
  await olap.command('SYSTEM STOP MERGES profile_snapshots');
  await olap.command('SYSTEM STOP MERGES audience_snapshots');
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  const orgA = await createOrganisation(meta, 'A');
  const orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');
  await upsertTrackedAccounts(meta, orgA, [
    { id: 'shop', platform: 'instagram' },
    { id: 'edge', platform: 'instagram' },
  ]);
  await upsertTrackedAccounts(meta, orgB, [{ id: 'shop', platform: 'instagram' }]);

  // Out of order, in several parts, with a snapshot sent twice under two ids at one instant.
  const mixed = shuffled([...PROFILES, ...AUDIENCES]);
  for (let i = 0; i < mixed.length; i += 4) await insert(orgA, mixed.slice(i, i + 4));
  await insert(orgA, [{ ...PROFILES[5]!, id: 'p-again' }]);
  await insert(orgB, OTHER_ORG);
  // The threshold edge: 1,000 followers, buckets of 99, 100 and 801 people, as counts and shares.
  await insert(orgA, [
    profile('edge', 0, 1000),
    audience('edge', 0, {
      age: { a: 99, b: 100, c: 801 },
      gender: { a: 0.099, b: 0.1, c: 0.801 },
    }),
  ]);

  const deps = { olap, meta, tokens: testTokens };
  served = await serveGraphQL({
    ...createAudienceSubgraph(deps, { minBucket: 100 }),
    host: '127.0.0.1',
    port: 0,
  });
  strict = await serveGraphQL({
    ...createAudienceSubgraph(deps, { minBucket: 101 }),
    host: '127.0.0.1',
    port: 0,
  });
});
afterAll(async () => {
  await served?.close();
  await strict?.close();
  await meta?.close();
  await olap?.close();
});

const VERSION_FIELDS =
  'handle displayName followers following postCount validFrom validTo lastObservedAt';
const HISTORY = `query ($id: ID!, $range: TimeRange, $first: Int!, $after: String) {
  account(id: $id) { profileHistory(range: $range, first: $first, after: $after) {
    totalCount endCursor nodes { ${VERSION_FIELDS} } } } }`;
interface HistoryData {
  account: {
    profileHistory: { totalCount: number; endCursor: string | null; nodes: unknown[] };
  } | null;
}
const BUCKET = '{ key value share count suppressed }';
const AUDIENCE_FIELDS = `observedAt ${DIMS.map((d) => `${d} ${BUCKET}`).join(' ')}`;

async function allVersions(key: string, range?: { from: string; to: string }, first = 2) {
  const nodes: unknown[] = [];
  let after: string | null = null;
  let totalCount = 0;
  for (let page = 0; page < 50; page++) {
    const reply: Reply<HistoryData> = await gql<HistoryData>(key, HISTORY, {
      id: 'shop',
      range,
      first,
      after,
    });
    expect(reply.errors).toBeUndefined();
    const history = reply.data?.account?.profileHistory;
    if (!history) throw new Error('no history');
    nodes.push(...history.nodes);
    totalCount = history.totalCount;
    after = history.endCursor;
    if (!after) break;
  }
  return { nodes, totalCount };
}

describe('profile history', () => {
  test('versions equal a recount of the snapshots sent, page by page', async () => {
    const expected = recountVersions(PROFILES);
    // A handle change, a change back in followers and a following-only change all start versions.
    expect(expected.map((v) => v.validFrom)).toEqual(
      [0, 2, 4, 5, 8, 9, 11].map((d) => iso(T0 + d * DAY)),
    );
    expect(await allVersions(keyA)).toEqual({ nodes: expected, totalCount: expected.length });
    expect((await allVersions(keyA, undefined, 100)).nodes).toEqual(expected);
  });

  test('a range gives the versions in effect at some instant of it', async () => {
    const from = T0 + 4.5 * DAY;
    const to = T0 + 8 * DAY;
    const expected = recountVersions(PROFILES).filter(
      (v) => Date.parse(v.validFrom) < to && (v.validTo === null || Date.parse(v.validTo) > from),
    );
    expect(expected.map((v) => v.validFrom)).toEqual([4, 5].map((d) => iso(T0 + d * DAY)));
    expect(await allVersions(keyA, { from: iso(from), to: iso(to) }, 1)).toEqual({
      nodes: expected,
      totalCount: 2,
    });
  });

  test('the profile as of any instant equals the latest snapshot sent by then', async () => {
    const instants = [
      T0 - 1,
      ...PROFILES.flatMap((p) => [at(p) - 1, at(p), at(p) + 1]),
      T0 + 99 * DAY,
    ];
    const query = `query ($id: ID!, ${instants.map((_, i) => `$t${i}: DateTime`).join(', ')}) {
      account(id: $id) { ${instants.map((_, i) => `p${i}: profile(asOf: $t${i}) { handle followers following observedAt }`).join(' ')}
      latest: profile { handle followers observedAt } } }`;
    const vars = Object.fromEntries(instants.map((t, i) => [`t${i}`, iso(t)]));
    const reply = await gql<{ account: Record<string, unknown> }>(keyA, query, {
      id: 'shop',
      ...vars,
    });
    expect(reply.errors).toBeUndefined();
    instants.forEach((t, i) => {
      const p = profileAsOf(PROFILES, t);
      expect(reply.data?.account[`p${i}`]).toEqual(
        p && {
          handle: p.handle,
          followers: p.followers,
          following: p.following,
          observedAt: p.occurredAt,
        },
      );
    });
    expect(reply.data?.account.latest).toEqual({
      handle: '@shop.new',
      followers: 1010,
      observedAt: iso(T0 + 12 * DAY),
    });
  });

  test('refuses a foreign cursor, a bad page size and a reversed range', async () => {
    for (const vars of [
      { first: 2, after: 'bm90LWEtY3Vyc29y' },
      { first: 0 },
      { first: 2, range: { from: iso(T0 + DAY), to: iso(T0) } },
    ]) {
      const reply = await gql<HistoryData>(keyA, HISTORY, { id: 'shop', ...vars });
      expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('demographics over time', () => {
  test('the audience as of any instant equals a recount of the snapshots sent', async () => {
    const instants = [T0, ...AUDIENCES.flatMap((a) => [at(a) - 1, at(a)]), T0 + 99 * DAY];
    for (const t of instants) {
      const reply = await gql<{ account: { audience: Record<string, unknown> | null } }>(
        keyA,
        `query ($t: DateTime) { account(id: "shop") { audience(asOf: $t) { ${AUDIENCE_FIELDS} } } }`,
        { t: iso(t) },
      );
      expect(reply.errors).toBeUndefined();
      const sent = AUDIENCES.filter((a) => at(a) <= t);
      if (sent.length === 0) {
        expect(reply.data?.account.audience).toBeNull();
        continue;
      }
      expect(reply.data?.account.audience).toEqual({
        observedAt: iso(Math.max(...sent.map(at))),
        ...recountAudience(t),
      });
    }
  });

  test('the change between two dates pairs buckets and subtracts where both are shown', async () => {
    const from = T0 + 1 * DAY;
    const to = T0 + 9 * DAY;
    const reply = await gql<{ account: { audienceChange: Record<string, unknown> } }>(
      keyA,
      `query ($from: DateTime!, $to: DateTime!) { account(id: "shop") { audienceChange(from: $from, to: $to) {
        from to before { observedAt } after { observedAt }
        ${DIMS.map((d) => `${d} { key before ${BUCKET} after ${BUCKET} valueChange shareChange countChange }`).join(' ')} } } }`,
      { from: iso(from), to: iso(to) },
    );
    expect(reply.errors).toBeUndefined();
    const before = recountAudience(from) as Record<Dim, { key: string }[]>;
    const after = recountAudience(to) as Record<Dim, { key: string }[]>;
    const change = reply.data?.account.audienceChange;
    expect(change).toMatchObject({
      from: iso(from),
      to: iso(to),
      before: { observedAt: iso(T0 + 0.5 * DAY) },
      after: { observedAt: iso(T0 + 8.5 * DAY) },
    });
    type Side = { key: string; value: number | null; share: number | null; count: number | null };
    const diff = (a?: number | null, b?: number | null) => (a == null || b == null ? null : a - b);
    for (const d of DIMS) {
      const b = new Map((before[d] as Side[]).map((x) => [x.key, x]));
      const a = new Map((after[d] as Side[]).map((x) => [x.key, x]));
      const keys = [...new Set([...a.keys(), ...b.keys()])];
      expect(change?.[d]).toEqual(
        keys.map((key) => ({
          key,
          before: b.get(key) ?? null,
          after: a.get(key) ?? null,
          valueChange: diff(a.get(key)?.value, b.get(key)?.value),
          shareChange: diff(a.get(key)?.share, b.get(key)?.share),
          countChange: diff(a.get(key)?.count, b.get(key)?.count),
        })),
      );
    }
    // 18-24 grew from 300 to 400 of the reported values; 35-44 appeared (day 3.5) and went.
    expect(change?.age).toContainEqual(
      expect.objectContaining({ key: '18-24', valueChange: 100, countChange: 400 - 300 }),
    );
  });
});

describe('suppression', () => {
  const EDGE = `{ account(id: "edge") { audience { age ${BUCKET} gender ${BUCKET} } } }`;

  test('a bucket of 99 people is suppressed and one of 100 is shown, as counts or as shares', async () => {
    const reply = await gql<{ account: { audience: Record<string, unknown> } }>(keyA, EDGE);
    expect(reply.errors).toBeUndefined();
    const hidden = { key: 'a', value: null, share: null, count: null, suppressed: true };
    expect(reply.data?.account.audience).toEqual({
      age: [
        { key: 'c', value: 801, share: 0.801, count: 801, suppressed: false },
        { key: 'b', value: 100, share: 0.1, count: 100, suppressed: false },
        hidden,
      ],
      gender: [
        { key: 'c', value: 0.801, share: 0.801, count: 801, suppressed: false },
        { key: 'b', value: 0.1, share: 0.1, count: 100, suppressed: false },
        hidden,
      ],
    });
  });

  test('the threshold is configurable: at 101 the bucket of 100 is suppressed too', async () => {
    const reply = await gql<{
      account: { audience: Record<string, { key: string; suppressed: boolean }[]> };
    }>(keyA, EDGE, {}, strict.url);
    expect(reply.data?.account.audience.age?.map((b) => [b.key, b.suppressed])).toEqual([
      ['c', false],
      ['a', true],
      ['b', true],
    ]);
  });

  test('LOUPE_AUDIENCE_MIN_BUCKET is 100 by default and must be a whole number', () => {
    expect(loadConfig({}).audience.minBucket).toBe(100);
    expect(loadConfig({ LOUPE_AUDIENCE_MIN_BUCKET: '50' }).audience.minBucket).toBe(50);
    expect(() => loadConfig({ LOUPE_AUDIENCE_MIN_BUCKET: 'ten' })).toThrow(
      /LOUPE_AUDIENCE_MIN_BUCKET/,
    );
    expect(() => loadConfig({ LOUPE_AUDIENCE_MIN_BUCKET: '-1' })).toThrow(
      /LOUPE_AUDIENCE_MIN_BUCKET/,
    );
  });
});

describe('tenancy', () => {
  test("another organisation's caller sees its own history only, and none of A's accounts", async () => {
    const mine = await allVersions(keyB);
    expect(mine.nodes).toEqual(recountVersions(OTHER_PROFILES));
    expect(mine.totalCount).toBe(2);
    const reply = await gql<{ account: unknown; entities: unknown[] }>(
      keyB,
      `query ($reps: [_Any!]!) {
        account(id: "edge") { profile { handle } profileHistory { totalCount } audience { age { key } } }
        entities: _entities(representations: $reps) { ... on Account { id profileHistory { totalCount }
          audience(asOf: "2026-03-05T00:00:00Z") { age { key } }
          audienceChange(from: "2026-03-01T00:00:00Z", to: "2026-03-20T00:00:00Z") { age { key } } } } }`,
      { reps: [{ __typename: 'Account', id: 'edge' }] },
    );
    expect(reply.errors).toBeUndefined();
    expect(reply.data).toEqual({ account: null, entities: [null] });
    const own = await gql<{ account: Record<string, unknown> }>(
      keyB,
      `{ account(id: "shop") { profile(asOf: "2026-03-05T00:00:00Z") { handle followers }
         audience(asOf: "2026-03-05T00:00:00Z") { age { key } interests { key suppressed } } } }`,
    );
    expect(own.data?.account).toEqual({
      profile: { handle: '@b-shop', followers: 9000 },
      audience: { age: [], interests: [{ key: 'chess', suppressed: false }] },
    });
  });
});
