// The speed layer when the live store fails part-way through a batch: the bus redelivers the
// batch, and every counter still equals a recount of the events, counted once.
import { afterEach, expect, test } from 'vitest';
import type { BusBatch } from '../../lib/bus/bus.port.ts';
import { counterKey, hourOf, ticksChannel, type Tick } from '../../lib/live/live-keys.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import { createMemoryLiveStore } from '../../lib/live/memory.live.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { createSpeedLayer } from './speed.consumer.ts';

const ORG = 'org-speed';
const NOW = Date.UTC(2026, 5, 1, 12, 30);
const HOUR = hourOf(NOW);

const stores: LiveStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A memory store whose named method fails once, before or after doing its work. */
function failingOnce(
  live: LiveStore,
  method: 'increment' | 'setValues' | 'publish',
  when: 'before' | 'after',
): LiveStore & { failures: number } {
  let armed = true;
  const wrapped = {
    ...live,
    failures: 0,
    [method]: async (...args: unknown[]) => {
      const call = () => (live[method] as (...a: unknown[]) => Promise<void>)(...args);
      if (!armed) return call();
      armed = false;
      wrapped.failures++;
      // 'after': the write happened but its reply was lost, as with a connection cut mid-reply.
      if (when === 'after') await call();
      throw new Error(`live store unreachable (${method}, ${when})`);
    },
  };
  return wrapped;
}

function batchOf(events: readonly EventInput[], firstOffset = 0): BusBatch {
  return {
    topic: 'events',
    partition: 0,
    messages: events.map((event, i) => ({
      topic: 'events',
      partition: 0,
      offset: firstOffset + i,
      key: `${ORG}/${event.accountId}`,
      value: JSON.stringify({ orgId: ORG, receivedAt: NOW, event }),
    })),
  };
}

function events(accountId: string): EventInput[] {
  const at = (minute: number) => new Date(HOUR + minute * 60_000).toISOString();
  const base = { platform: 'instagram' as const, accountId };
  return [
    {
      ...base,
      id: 'e1',
      type: 'engagement',
      metric: 'likes',
      mode: 'delta',
      value: 3,
      occurredAt: at(1),
    },
    {
      ...base,
      id: 'e2',
      type: 'engagement',
      metric: 'likes',
      mode: 'delta',
      value: 4,
      occurredAt: at(2),
      postId: 'p1',
    },
    // Lifetime totals: the first sets the baseline, the next two add 5 and then 2.
    {
      ...base,
      id: 'e3',
      type: 'engagement',
      metric: 'views',
      mode: 'total',
      value: 100,
      occurredAt: at(3),
    },
    {
      ...base,
      id: 'e4',
      type: 'engagement',
      metric: 'views',
      mode: 'total',
      value: 105,
      occurredAt: at(4),
    },
    {
      ...base,
      id: 'e5',
      type: 'engagement',
      metric: 'views',
      mode: 'total',
      value: 107,
      occurredAt: at(5),
    },
    {
      ...base,
      id: 'e6',
      type: 'app',
      name: 'open',
      userId: 'u1',
      properties: {},
      occurredAt: at(6),
    },
  ];
}

/** What the bus does: hand the batch again until the handler resolves. */
async function deliver(handle: (b: BusBatch) => Promise<void>, batch: BusBatch): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await handle(batch);
      return attempt;
    } catch {
      if (attempt > 5) throw new Error('batch never went through');
    }
  }
}

async function countersOf(live: LiveStore, accountId: string) {
  const [likes, postLikes, views, appEvents] = await live.counters([
    counterKey(ORG, accountId, '', 'likes', HOUR),
    counterKey(ORG, accountId, 'p1', 'likes', HOUR),
    counterKey(ORG, accountId, '', 'views', HOUR),
    counterKey(ORG, accountId, '', 'app_events', HOUR),
  ]);
  return { likes, postLikes, views, appEvents };
}

const EXPECTED = { likes: 7, postLikes: 4, views: 7, appEvents: 1 };

test.each([
  ['increment', 'before'],
  ['increment', 'after'],
  ['setValues', 'before'],
  ['setValues', 'after'],
  ['publish', 'before'],
  ['publish', 'after'],
] as const)(
  'a batch whose %s fails (%s writing) is counted once when redelivered',
  async (method, when) => {
    const memory = createMemoryLiveStore();
    stores.push(memory);
    const live = failingOnce(memory, method, when);
    const speed = createSpeedLayer({ live, now: () => NOW });
    const accountId = `acct-${method}-${when}`;

    expect(
      await deliver(async (b) => void (await speed.handleBatch(b)), batchOf(events(accountId))),
    ).toBe(2);
    expect(live.failures).toBe(1);
    expect(await countersOf(memory, accountId)).toEqual(EXPECTED);

    // The next batch's total is measured from the level the failed batch left: 107 → 110.
    const later = {
      platform: 'instagram' as const,
      accountId,
      id: 'e7',
      type: 'engagement' as const,
      metric: 'views' as const,
      mode: 'total' as const,
      value: 110,
      occurredAt: new Date(HOUR + 10 * 60_000).toISOString(),
    };
    await speed.handleBatch(batchOf([later], 6));
    expect((await countersOf(memory, accountId)).views).toBe(EXPECTED.views + 3);
  },
);

test('a redelivery overlapping an applied batch counts only the new messages', async () => {
  const live = createMemoryLiveStore();
  stores.push(live);
  const speed = createSpeedLayer({ live, now: () => NOW });
  const all = events('acct-overlap');
  await speed.handleBatch(batchOf(all.slice(0, 3)));
  // As after a restart of the consumer: fetched again from an older offset, cut differently.
  await speed.handleBatch(batchOf(all, 0));
  expect(await countersOf(live, 'acct-overlap')).toEqual(EXPECTED);
});

test('ticks go out for a redelivered batch that had not been counted yet', async () => {
  const memory = createMemoryLiveStore();
  stores.push(memory);
  const live = failingOnce(memory, 'increment', 'before');
  const ticks: Tick[] = [];
  await memory.subscribe(ticksChannel(ORG), (m) => ticks.push(...(JSON.parse(m) as Tick[])));
  const speed = createSpeedLayer({ live, now: () => NOW });
  await deliver(async (b) => void (await speed.handleBatch(b)), batchOf(events('acct-ticks')));
  const likes = ticks.filter((t) => t.metric === 'likes');
  expect(likes.map((t) => [t.delta, t.hourValue])).toEqual([[7, 7]]);
});

test('a new speed layer on a bus whose offsets restarted counts from its first message', async () => {
  const live = createMemoryLiveStore();
  stores.push(live);
  await createSpeedLayer({ live, now: () => NOW }).handleBatch(batchOf(events('acct-a')));
  // An in-process bus starts again at offset 0 after a restart; the live store (Redis) did not.
  await createSpeedLayer({ live, now: () => NOW }).handleBatch(batchOf(events('acct-b')));
  expect(await countersOf(live, 'acct-b')).toEqual(EXPECTED);
});

test('a replica or restarted process on the same durable log adds nothing for a batch already counted', async () => {
  const live = createMemoryLiveStore();
  stores.push(live);
  const batch = batchOf(events('acct-shared'));
  await createSpeedLayer({ live, now: () => NOW, logId: 'kafka:shared.' }).handleBatch(batch);
  // The first process died before its commit; the next owner of the partition is handed it again.
  await createSpeedLayer({ live, now: () => NOW, logId: 'kafka:shared.' }).handleBatch(batch);
  expect(await countersOf(live, 'acct-shared')).toEqual(EXPECTED);
});

test('an event sent twice in one batch counts once', async () => {
  const live = createMemoryLiveStore();
  stores.push(live);
  const once = events('acct-twice');
  await createSpeedLayer({ live, now: () => NOW }).handleBatch(batchOf([...once, ...once]));
  expect(await countersOf(live, 'acct-twice')).toEqual(EXPECTED);
});
