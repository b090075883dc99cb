// The collector's per-event verdicts and its 503 rule, on real engines: the in-process bus and a
// PGlite meta store recording the accounts, as the product wires them.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Caller } from '../../lib/auth/caller.ts';
import type { Bus, BusMessage } from '../../lib/bus/bus.port.ts';
import { createMemoryBus } from '../../lib/bus/memory.bus.ts';
import { createLogger } from '../../lib/logger.ts';
import {
  createOrganisation,
  listTrackedAccounts,
  upsertTrackedAccounts,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { parseEnvelope, type EventInput } from '../../schema/event-envelope.ts';
import { EVENTS_TOPIC } from '../pipeline/topics.ts';
import { serveCollector, type AccountsSeen, type ServedCollector } from './collector.server.ts';

const KEY = 'loupe_collector_test_key';
const NOW = Date.parse('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const logger = createLogger('silent');

let meta: MetaStore;
let orgId: string;
let bus: Bus;
let collector: ServedCollector | undefined;
let published: BusMessage[];

beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
  orgId = await createOrganisation(meta, 'Collector');
});
afterAll(() => meta.close());

beforeEach(async () => {
  bus = createMemoryBus();
  published = [];
  await bus.consume({
    topic: EVENTS_TOPIC,
    group: 'test',
    handleBatch: async (batch) => void published.push(...batch.messages),
  });
});
afterEach(async () => {
  await collector?.close();
  collector = undefined;
  await bus.close();
});

const record: AccountsSeen = (org, accounts) =>
  upsertTrackedAccounts(
    meta,
    org,
    [...accounts].map(([id, platform]) => ({ id, platform })),
  );

async function start(
  onAccounts: AccountsSeen = record,
  eventTime?: { maxFutureSkewMs: number; appFutureClampMs: number; maxAgeMs: number },
) {
  collector = await serveCollector({
    bus,
    authenticate: async (key) => {
      const role = ROLES.get(key);
      return role ? { orgId, timeZone: 'UTC', role } : null;
    },
    onAccounts,
    logger,
    now: () => NOW,
    eventTime,
    host: '127.0.0.1',
    port: 0,
  });
}

const INGEST_KEY = 'collector-test-ingest-key';
const MEMBER_KEY = 'collector-test-member-key';
const ROLES = new Map<string, Caller['role']>([
  [KEY, 'admin'],
  [INGEST_KEY, 'ingest'],
  [MEMBER_KEY, 'member'],
  ['collector-test-partner-key', 'partner'],
]);

async function post(events: unknown[], key = KEY) {
  const res = await fetch(`${collector!.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as {
    accepted: number;
    results: { index: number; status: string; reason?: string }[];
  };
  return { status: res.status, body };
}

let serial = 0;
function event(overrides: Record<string, unknown> = {}): EventInput {
  return {
    id: `e-${serial++}`,
    type: 'engagement',
    platform: 'x',
    accountId: 'acct-good',
    metric: 'likes',
    mode: 'delta',
    value: 1,
    occurredAt: new Date(NOW - 60_000).toISOString(),
    ...overrides,
  };
}

/** Ids of the events on the bus, sorted: partitions deliver in no order relative to each other. */
const onBus = () =>
  published
    .map((m) => {
      const parsed = parseEnvelope(m.value);
      return parsed.ok ? parsed.envelope.event.id : `unreadable: ${parsed.reason}`;
    })
    .sort();

async function settled(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50)); // the in-process bus delivers on a later turn
}

describe('one bad event', () => {
  test('ingest and admin keys post events; member and partner keys get 403 with the reason', async () => {
    await start();
    const accepted = await post([event()], INGEST_KEY);
    expect(accepted.status).toBe(200);
    expect(accepted.body.accepted).toBe(1);
    await settled(); // the accepted event reaches the bus first, so it is not counted below
    for (const key of [MEMBER_KEY, 'collector-test-partner-key']) {
      const before = published.length;
      const res = await fetch(`${collector!.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ events: [event()] }),
      });
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/key cannot post events; use an ingest key/);
      expect(published.length).toBe(before);
    }
  });

  test('an accountId holding NUL is rejected with its index and reason; the others are stored', async () => {
    await start();
    const events = [
      event(),
      event({ accountId: 'acct\u0000evil' }),
      event({ accountId: 'acct-other' }),
    ];
    const { status, body } = await post(events);
    expect(status).toBe(200);
    expect(body.accepted).toBe(2);
    expect(body.results[1]).toEqual({
      index: 1,
      status: 'rejected',
      reason: 'accountId: U+0000 (NUL) at position 4: an id holds visible characters only',
    });
    await settled();
    expect(onBus()).toEqual([events[0]!.id, events[2]!.id].sort());
    const tracked = (await listTrackedAccounts(meta, orgId)).map((a) => a.id);
    expect(tracked).toEqual(expect.arrayContaining(['acct-good', 'acct-other']));
    expect(tracked).not.toContain('acct\u0000evil');
  });

  test('a value the meta store still refuses rejects only the events of that account', async () => {
    // A real refusal by the engine (SQLSTATE 23514), for a value the envelope lets through.
    await meta.exec(
      `ALTER TABLE tracked_accounts ADD CONSTRAINT test_refuses CHECK (id <> 'acct-refused')`,
    );
    try {
      await start();
      const events = [
        event({ accountId: 'acct-refused' }),
        event(),
        event({ accountId: 'acct-refused' }),
      ];
      const { status, body } = await post(events);
      expect(status).toBe(200);
      expect(body.results.map((r) => r.status)).toEqual(['rejected', 'accepted', 'rejected']);
      expect(body.results[0]?.reason).toMatch(
        /^accountId: refused by the meta store: .*test_refuses/,
      );
      await settled();
      expect(onBus()).toEqual([events[1]!.id]);
    } finally {
      await meta.exec('ALTER TABLE tracked_accounts DROP CONSTRAINT test_refuses');
    }
  });
});

describe('503 only for what a retry can cure', () => {
  test('a meta store that cannot answer fails the batch with 503, and nothing is published', async () => {
    const gone = await createPgliteMeta();
    await migrate(gone);
    await gone.close();
    await start((org, accounts) =>
      upsertTrackedAccounts(
        gone,
        org,
        [...accounts].map(([id, platform]) => ({ id, platform })),
      ),
    );
    const { status } = await post([event(), event()]);
    expect(status).toBe(503);
    await settled();
    expect(published).toEqual([]);
  });

  test('a bus that cannot take the batch fails it with 503', async () => {
    await start();
    await bus.close();
    expect((await post([event()])).status).toBe(503);
  });
});

describe('event time', () => {
  test('events too far ahead or behind the receiving clock are rejected, with the bound', async () => {
    await start(record, {
      maxFutureSkewMs: 5 * 60_000,
      appFutureClampMs: 23 * 3_600_000,
      maxAgeMs: 30 * DAY,
    });
    const at = (ms: number) => ({ occurredAt: new Date(ms).toISOString() });
    const { body } = await post([
      event(at(NOW + 4 * 60_000)),
      event(at(NOW + 6 * 60_000)),
      event(at(NOW - 29 * DAY)),
      event(at(NOW - 31 * DAY)),
      event({ occurredAt: '1899-12-31T23:59:59Z' }),
    ]);
    expect(body.results.map((r) => r.reason ?? r.status)).toEqual([
      'accepted',
      'occurredAt: more than 5 minutes in the future',
      'accepted',
      'occurredAt: more than 30 days in the past, the most an event may be late',
      'occurredAt: 1899-12-31T23:59:59Z is outside 1900-01-01..2299-12-31 (UTC), the range the event store holds',
    ]);
  });

  test('app events: sentAt corrects the device clock; more than 23 h ahead is kept at receipt, with a warning', async () => {
    await start();
    const HOUR = 3_600_000;
    const app = (id: string, occurredAt: number, sentAt?: number): Record<string, unknown> => ({
      id,
      type: 'app',
      platform: 'app',
      accountId: 'app-good',
      name: 'page_view',
      userId: 'u1',
      occurredAt: new Date(occurredAt).toISOString(),
      ...(sentAt !== undefined && { sentAt: new Date(sentAt).toISOString() }),
    });
    const { body } = await post([
      // A device 2 hours fast: it stamped the event 10 s before it sent the batch.
      app('skewed', NOW + 2 * HOUR - 10_000, NOW + 2 * HOUR),
      // A device 3 days slow, likewise.
      app('slow', NOW - 72 * HOUR - 60_000, NOW - 72 * HOUR),
      // No sentAt: 22 hours ahead is kept as sent, 24 hours ahead is clamped.
      app('ahead', NOW + 22 * HOUR),
      app('too-far', NOW + 24 * HOUR),
      // Corrected by sentAt and still beyond 23 hours: clamped too.
      app('corrected-too-far', NOW + 30 * HOUR, NOW + HOUR),
    ]);
    expect(body.results.map((r) => r.status)).toEqual(Array(5).fill('accepted'));
    const warnings = body.results.map((r) => (r as { warnings?: string[] }).warnings ?? []);
    expect(warnings).toEqual([
      [],
      [],
      [],
      ['occurredAt is more than 23 hours in the future; stored at the receive time'],
      [
        'occurredAt corrected by sentAt is more than 23 hours in the future; stored at the receive time',
      ],
    ]);
    await settled();
    const stored = new Map(
      published.map((m) => {
        const { event: e } = JSON.parse(m.value) as { event: { id: string; occurredAt: string } };
        return [e.id, Date.parse(e.occurredAt)];
      }),
    );
    expect(stored.get('skewed')).toBe(NOW - 10_000);
    expect(stored.get('slow')).toBe(NOW - 60_000);
    expect(stored.get('ahead')).toBe(NOW + 22 * HOUR);
    expect(stored.get('too-far')).toBe(NOW);
    expect(stored.get('corrected-too-far')).toBe(NOW);
  });
});

describe('size', () => {
  test('an event whose message would exceed 512 KiB is rejected, the rest of the batch kept', async () => {
    await start();
    // Each control character is written as \u00XX: 1024 of them make 6 KiB of JSON per value.
    // Person properties are not bounded in bytes themselves (event properties are, at 16 KiB).
    const set = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`k${i}`, '\u0001'.repeat(1024)]),
    );
    const big = event({ type: 'app', name: 'open', set });
    const { body } = await post([big, event()]);
    expect(body.results[0]?.reason).toMatch(
      /^event: \d+ bytes as JSON, more than the 524288 bytes/,
    );
    expect(body.results[1]?.status).toBe('accepted');
  });
});
