// One suite for every live store: the in-process one here, Redis when a server is configured.
// Keys and channels carry a random prefix, so a shared server keeps no state between runs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { counterKey, levelKey, ticksChannel, usersKey } from './live-keys.ts';
import type { LiveStore } from './live.port.ts';

export function liveContract(name: string, create: () => Promise<LiveStore>): void {
  describe(`live store contract: ${name}`, () => {
    let live: LiveStore;
    let prefix = '';
    const key = (suffix: string): string => `${prefix}:${suffix}`;

    beforeAll(async () => {
      live = await create();
    });
    beforeEach(() => {
      prefix = `contract-${randomUUID().slice(0, 8)}`;
    });
    afterAll(() => live.close());

    test('adds increments per key', async () => {
      await live.increment(
        [
          { key: key('a'), by: 1 },
          { key: key('a'), by: 2 },
          { key: key('b'), by: 5 },
        ],
        60,
      );
      await live.increment(
        [
          { key: key('a'), by: 10 },
          { key: key('b'), by: -7 },
        ],
        60,
      );
      expect(await live.counters([key('a'), key('b'), key('a')])).toEqual([13, -2, 13]);
    });

    test('reads 0 for a missing counter and undefined for a missing value', async () => {
      expect(await live.counters([key('none'), key('none-2')])).toEqual([0, 0]);
      expect(await live.getValues([key('none')])).toEqual([undefined]);
      expect(await live.countUnique([key('none')])).toBe(0);
      expect(await live.counters([])).toEqual([]);
    });

    test('sets and overwrites values', async () => {
      await live.setValues(
        [
          { key: key('x'), value: '1700000000000:12' },
          { key: key('y'), value: 'é ✓ \u0000' },
        ],
        60,
      );
      await live.setValues([{ key: key('x'), value: 'second' }], 60);
      expect(await live.getValues([key('x'), key('missing'), key('y')])).toEqual([
        'second',
        undefined,
        'é ✓ \u0000',
      ]);
    });

    test('expires keys a TTL after their last write', async () => {
      await live.increment([{ key: key('c'), by: 1 }], 1);
      await live.increment([{ key: key('kept'), by: 1 }], 1);
      await live.setValues([{ key: key('v'), value: 'v' }], 1);
      await live.addUnique([{ key: key('u'), members: ['m1', 'm2'] }], 1);
      await sleep(500);
      // A write sets the key's expiry anew: `kept` now outlives its first 1 s by far.
      await live.increment([{ key: key('kept'), by: 1 }], 3);
      expect(await live.counters([key('c')])).toEqual([1]);
      await sleep(700);
      expect(await live.counters([key('c'), key('kept')])).toEqual([0, 2]);
      expect(await live.getValues([key('v')])).toEqual([undefined]);
      expect(await live.countUnique([key('u')])).toBe(0);
    });

    test('counts 10,000 and 100,000 unique members within 2%', async () => {
      for (const size of [10_000, 100_000]) {
        const k = key(`users-${size}`);
        for (let from = 0; from < size; from += 5000) {
          await live.addUnique([{ key: k, members: members(from, from + 5000) }], 60);
        }
        expect(Math.abs((await live.countUnique([k])) - size) / size).toBeLessThan(0.02);
      }
    });

    test('does not count a member twice', async () => {
      const k = key('dupes');
      await live.addUnique([{ key: k, members: members(0, 10_000) }], 60);
      const once = await live.countUnique([k]);
      await live.addUnique([{ key: k, members: members(0, 10_000) }], 60);
      await live.addUnique([{ key: k, members: ['user-5', 'user-5', 'user-5'] }], 60);
      expect(await live.countUnique([k])).toBe(once);
      await live.addUnique([{ key: key('one'), members: Array<string>(1000).fill('same') }], 60);
      expect(await live.countUnique([key('one')])).toBe(1);
    });

    test('counts the union of several sketches', async () => {
      await live.addUnique(
        [
          { key: key('h1'), members: members(0, 50_000) },
          { key: key('h2'), members: members(25_000, 75_000) },
          { key: key('h3'), members: members(60_000, 100_000) },
        ],
        60,
      );
      const union = await live.countUnique([key('h1'), key('h2'), key('h3'), key('missing')]);
      expect(Math.abs(union - 100_000) / 100_000).toBeLessThan(0.02);
      const two = await live.countUnique([key('h1'), key('h2')]);
      expect(Math.abs(two - 75_000) / 75_000).toBeLessThan(0.02);
    });

    test('delivers a message to the subscribers of its channel only, in order', async () => {
      const a: string[] = [];
      const b: string[] = [];
      const other: string[] = [];
      const offA = await live.subscribe(key('ticks'), (m) => a.push(m));
      await live.subscribe(key('ticks'), (m) => b.push(m));
      await live.subscribe(key('elsewhere'), (m) => other.push(m));

      for (let i = 0; i < 20; i++) await live.publish(key('ticks'), `t${i}`);
      await waitFor(() => a.length === 20 && b.length === 20);
      const expected = Array.from({ length: 20 }, (_, i) => `t${i}`);
      expect(a).toEqual(expected);
      expect(b).toEqual(expected);
      expect(other).toEqual([]);

      await offA();
      await live.publish(key('ticks'), 'after');
      // b getting 'after' shows the message went out; a, unsubscribed, must not have it.
      await waitFor(() => b.length === 21);
      expect(a).toHaveLength(20);
      expect(b.at(-1)).toBe('after');
    });

    test('keeps the keys and channels of hostile ids apart', async () => {
      const ids = hostileIds(prefix);
      const counters = ids.map(([org, account, post]) =>
        counterKey(org, account, post, 'likes', 0),
      );
      await live.increment(
        counters.map((key, i) => ({ key, by: i + 1 })),
        60,
      );
      expect(await live.counters(counters)).toEqual(ids.map((_, i) => i + 1));

      const levels = ids.map(([org, account, post]) => levelKey(org, account, post, 'likes'));
      await live.setValues(
        levels.map((key, i) => ({ key, value: `v${i}` })),
        60,
      );
      expect(await live.getValues(levels)).toEqual(ids.map((_, i) => `v${i}`));

      // Post '' stands for the account, so the users keys are one per distinct (org, account).
      const accounts = ids.filter(([, , post]) => post === '');
      const users = accounts.map(([org, account]) => usersKey(org, account, 0));
      await live.addUnique(
        users.map((key, i) => ({ key, members: members(10 * i, 10 * i + 1 + (i % 5)) })),
        60,
      );
      for (const [i, key] of users.entries()) {
        expect(await live.countUnique([key]), key).toBe(1 + (i % 5));
      }

      const orgs = [...new Set(ids.map(([org]) => org))];
      const heard = orgs.map(() => [] as string[]);
      const offs = await Promise.all(
        orgs.map((org, i) => live.subscribe(ticksChannel(org), (m) => heard[i]!.push(m))),
      );
      for (const [i, org] of orgs.entries()) await live.publish(ticksChannel(org), `t${i}`);
      await waitFor(() => heard.every((h) => h.length > 0));
      await sleep(50);
      expect(heard).toEqual(orgs.map((_, i) => [`t${i}`]));
      await Promise.all(offs.map((off) => off()));
    });

    test('publishing to a channel nobody listens to is harmless', async () => {
      await expect(live.publish(key('nobody'), 'x')).resolves.toBeUndefined();
    });

    test('an increment refused for one key leaves every key of the call as it was', async () => {
      await live.increment([{ key: key('ok'), by: 5 }], 60);
      await live.setValues([{ key: key('text'), value: 'not a number' }], 60);
      const refused = live.increment(
        [
          { key: key('ok'), by: 1 },
          { key: key('fresh'), by: 1 },
          { key: key('text'), by: 1 },
        ],
        60,
      );
      await expect(refused).rejects.toThrow(/WRONGTYPE/);
      expect(await live.counters([key('ok'), key('fresh')])).toEqual([5, 0]);

      const max = Number.MAX_SAFE_INTEGER;
      await live.increment([{ key: key('near'), by: max - 1 }], 60);
      const over = live.increment(
        [
          { key: key('ok'), by: 1 },
          { key: key('near'), by: 2 },
        ],
        60,
      );
      await expect(over).rejects.toThrow(/2\^53/);
      expect(await live.counters([key('ok'), key('near')])).toEqual([5, max - 1]);
      await live.increment([{ key: key('near'), by: 1 }], 60);
      expect(await live.counters([key('near')])).toEqual([max]);
    });
  });
}

/**
 * Distinct (org, account, post) triples whose parts hold the key separator, escapes, prefixes of
 * each other and lone surrogates (which UTF-8, and so Redis, turns into one U+FFFD each).
 */
function hostileIds(prefix: string): [org: string, account: string, post: string][] {
  const parts = [
    'a',
    'a|',
    '|a',
    'a|p',
    'p|',
    '||',
    '%',
    '%7C',
    '\\',
    ':',
    '*',
    '\uD800',
    '\uD801',
    '😀',
  ];
  const orgs = [prefix, `${prefix}|a`, `${prefix}\uD800`, `${prefix}\uD801`];
  // The example first: account 'a|p' with no post, account 'a' with post 'p|'.
  const triples: [string, string, string][] = [
    [prefix, 'a|p', ''],
    [prefix, 'a', 'p|'],
  ];
  for (const org of orgs) {
    for (const account of parts) {
      for (const post of ['', 'p', 'p|', '|p']) {
        if (!triples.some(([o, a, p]) => o === org && a === account && p === post)) {
          triples.push([org, account, post]);
        }
      }
    }
  }
  return triples;
}

function members(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `user-${from + i}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for delivery');
    await sleep(2);
  }
}
