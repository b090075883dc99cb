import { describe, expect, test } from 'vitest';
import { counterKey, levelKey, ticksChannel, usersKey } from './live-keys.ts';

// Parts that break a naive join: the separator, the escape, escapes spelled out, prefixes of one
// another, the empty account-level post, lone surrogates (one U+FFFD each in UTF-8) and more.
const HOSTILE = [
  '',
  'a',
  'a|',
  '|a',
  'a|p',
  'p|',
  '|',
  '%',
  '%7C',
  '%25',
  '%uD800',
  '\\',
  ':',
  '\uD800',
  '\uD801',
  '\uFFFD',
  '😀',
];
const HOURS = [0, 3_600_000];

/** Every key `make` gives over all combinations of `arity` hostile parts and the hours. */
function keysOver(arity: number, make: (parts: string[], hour: number) => string): string[] {
  let combos: string[][] = [[]];
  for (let i = 0; i < arity; i++) combos = combos.flatMap((c) => HOSTILE.map((p) => [...c, p]));
  return combos.flatMap((parts) => HOURS.map((hour) => make(parts, hour)));
}

const sendable = (key: string): boolean => Buffer.from(key, 'utf8').toString('utf8') === key;

describe('live keys', () => {
  test("the issue's example: account 'a|p' and account 'a' with post 'p|' get different keys", () => {
    expect(counterKey('org', 'a|p', '', 'likes', 0)).not.toBe(
      counterKey('org', 'a', 'p|', 'likes', 0),
    );
    expect(levelKey('org', 'a|p', '', 'likes')).not.toBe(levelKey('org', 'a', 'p|', 'likes'));
  });

  test('distinct parts give distinct keys, across every kind of key', () => {
    const all = [
      ...keysOver(4, ([o, a, p, m], h) => counterKey(o!, a!, p!, m!, h)),
      ...keysOver(4, ([o, a, p, m]) => levelKey(o!, a!, p!, m!)).filter((_, i) => i % 2 === 0),
      ...keysOver(2, ([o, a], h) => usersKey(o!, a!, h)),
      ...HOSTILE.map((o) => ticksChannel(o)),
    ];
    expect(new Set(all).size).toBe(all.length);
  });

  test('every key survives UTF-8, as Redis receives it', () => {
    const all = [
      ...keysOver(2, ([a, p], h) => counterKey('org', a!, p!, 'likes', h)),
      ...keysOver(1, ([o], h) => usersKey(o!, o!, h)),
      ...HOSTILE.map((o) => ticksChannel(o)),
    ];
    expect(all.filter((key) => !sendable(key))).toEqual([]);
  });

  test('ordinary ids keep the keys they had', () => {
    expect(counterKey('org-1', 'acct_2', 'post-3', 'likes', 7200000)).toBe(
      'c|org-1|acct_2|post-3|likes|7200000',
    );
    expect(usersKey('org-1', 'acct_2', 0)).toBe('u|org-1|acct_2|0');
    expect(ticksChannel('org-1')).toBe('ticks|org-1');
  });
});
