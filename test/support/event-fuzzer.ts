// Mutated events, each with the verdict its mutation implies. The verdicts are written from the
// rules the README documents for the envelope and the collector, never by calling the schema, so
// a validator that is too lax or too strict fails the fuzz run instead of agreeing with itself.
import { seeded } from './known-batch.ts';

export interface FuzzCase {
  /** What goes into the batch: usually an event object, sometimes not even an object. */
  event: unknown;
  /** The mutation applied, to name a failing case. */
  mutation: string;
  /** Valid events must be accepted, and stored once under their id. */
  valid: boolean;
  /** For an invalid event: a word its rejection reason must contain (the field at fault). */
  field?: string;
  /** For a valid event: where it must be stored. */
  id?: string;
  accountId?: string;
}

/** JSON numbers the serialiser cannot write (`1e999` parses as Infinity); see `toBatchBody`. */
const INFINITY = '__fuzz_1e999__';
const NEGATIVE_INFINITY = '__fuzz_-1e999__';

/** The body of a batch, with the infinity placeholders turned into JSON numbers that overflow. */
export function toBatchBody(events: readonly unknown[]): string {
  return JSON.stringify({ events })
    .replaceAll(`"${INFINITY}"`, '1e999')
    .replaceAll(`"${NEGATIVE_INFINITY}"`, '-1e999');
}

const DAY = 86_400_000;
/** Bounds the README states; the fuzzer's own copies, so it does not share the validator's. */
const LIMITS = {
  id: 128,
  text: 10_000,
  label: 256,
  name: 128,
  propertyValue: 1024,
  propertyKey: 128,
  bucketKey: 64,
  properties: 100,
  buckets: 500,
  futureSkewMs: 5 * 60_000,
  maxAgeMs: 5 * 365 * DAY,
};

const ID_FIELDS = ['id', 'accountId', 'postId', 'commentId', 'userId'] as const;
const LABEL_FIELDS = ['handle', 'displayName', 'name', 'authorHandle'] as const;
const TEXT_FIELDS = ['content', 'text'] as const;
const DIMENSIONS = ['age', 'gender', 'country', 'city', 'interests'] as const;

// Characters an id may not hold: controls, whitespace, invisible formatting, noncharacters, U+FFFD.
const ID_FORBIDDEN = [
  '\u0000',
  '\u0001',
  '\u001b',
  '\t',
  '\n',
  '\r',
  '\u007f',
  '\u0085',
  '\u009f',
  ' ',
  '\u00a0',
  '\u00ad',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2066',
  '\u3000',
  '\ufeff',
  '\ufffd',
  '\ufdd0',
  '\uffff',
  '\u{e0041}',
];
// Visible characters that are hostile to naive code but legal in ids.
const ID_HOSTILE_OK = [
  '🦊',
  '👩🏽',
  '账户',
  'حساب',
  'é',
  'e\u0301',
  '|',
  '/',
  ':',
  '%00',
  '\\',
  '"',
  "'",
  '<',
  '𝔘',
  '\ue000',
];
// Text may hold these; the stores keep them as they are.
const TEXT_HOSTILE_OK = [
  '\u202e',
  '\u2066',
  '\u200d',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  'Z̤͔ͧ̑̓ä͖̭̈̇',
  'ﷺ',
  '\t',
  '\n',
  '\r\n',
  '\u0001',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\ufeff',
  '\ufffd',
  '\uffff',
  "'; DROP TABLE events; --",
  '{"$ne": null}',
];
const LONE_SURROGATES = ['\ud83d', '\ude00', '\ude00\ud83d', '\udbff'];
const LABEL_CONTROLS = ['\u0000', '\u0007', '\n', '\t', '\u007f', '\u0090'];
// Not instants, or instants outside what the event store holds (1900-01-01..2299-12-31).
const ODD_DATES_INVALID = [
  '2024-02-30T00:00:00Z',
  '2023-02-29T12:00:00Z',
  'yesterday',
  '',
  '2024-01-01T00:00:00',
  '2024-01-01',
  '2024-01-01T24:00:00Z',
  '2024-01-01T00:00:60Z',
  '2024-01-01T00:00:00+25:00',
  '1899-12-31T23:59:59.999Z',
  '2300-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
];

type Event = Record<string, unknown>;

interface Account {
  id: string;
  platform: string;
}

export interface FuzzOptions {
  seed: number;
  count: number;
  /** The collector's clock, for event times near the lateness bounds. */
  now: number;
  /** Makes ids unique to one run. */
  runId: string;
}

/** `count` cases, the same for the same seed. */
export function fuzzCases({ seed, count, now, runId }: FuzzOptions): FuzzCase[] {
  const random = seeded(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => random() < p;
  const insert = (s: string, piece: string) => {
    const at = int(s.length + 1);
    // Never split a surrogate pair already in s: that would make a lone surrogate by accident.
    const safe = at > 0 && /[\ud800-\udbff]/.test(s[at - 1] ?? '') ? at + 1 : at;
    return s.slice(0, safe) + piece + s.slice(safe);
  };

  const platforms = ['facebook', 'instagram', 'x', 'tiktok', 'app'];
  const accounts: Account[] = Array.from({ length: 60 }, (_, i) => {
    const hostile = i % 3 === 0 ? pick(ID_HOSTILE_OK) : '';
    const id = i === 1 ? `${runId}-`.padEnd(LIMITS.id, 'x') : `${runId}-acct${hostile}-${i}`;
    return { id, platform: platforms[i % platforms.length]! };
  });

  let serial = 0;
  const recentInstant = () => new Date(now - int(20 * DAY)).toISOString();

  function validEvent(): Event {
    const account = pick(accounts);
    const base: Event = {
      id: `${runId}-e${serial++}`,
      platform: account.platform,
      accountId: account.id,
      occurredAt: recentInstant(),
    };
    const postId = `post-${int(50)}`;
    switch (int(6)) {
      case 0:
        return {
          ...base,
          type: 'engagement',
          metric: pick(['likes', 'comments', 'shares', 'saves', 'views', 'impressions']),
          mode: pick(['delta', 'total']),
          value: int(1000),
          ...(chance(0.7) ? { postId } : {}),
        };
      case 1:
        return {
          ...base,
          type: 'post',
          action: pick(['published', 'updated']),
          postId,
          content: `a post about latte ${serial}`,
          url: `https://example.com/p/${serial}`,
          mediaType: pick(['text', 'image', 'video']),
          publishedAt: recentInstant(),
        };
      case 2:
        return {
          ...base,
          type: 'comment',
          kind: pick(['comment', 'mention']),
          commentId: `c-${serial}`,
          postId,
          authorHandle: '@someone',
          text: 'great post, love it',
        };
      case 3:
        return {
          ...base,
          type: 'profile',
          handle: '@northwind',
          displayName: 'Northwind Coffee',
          followers: int(100_000),
          following: int(1000),
          postCount: int(500),
        };
      case 4:
        return {
          ...base,
          type: 'audience',
          age: { '18-24': 0.4, '25-34': 0.6 },
          ...(chance(0.5) ? { country: { US: 0.5, FR: 0.5 } } : {}),
        };
      default:
        return {
          ...base,
          type: 'app',
          name: 'open',
          userId: `user-${int(500)}`,
          properties: { screen: 'home', n: int(10), ok: true },
        };
    }
  }

  const has = (e: Event, fields: readonly string[]) =>
    fields.filter((f) => typeof e[f] === 'string');
  const ensureProperties = (e: Event): Record<string, unknown> => {
    e['type'] = 'app';
    e['name'] ??= 'open';
    const properties = { ...((e['properties'] as Record<string, unknown> | undefined) ?? {}) };
    e['properties'] = properties;
    return properties;
  };
  /** An event whose own fields suit the mutation (an app event for properties, and so on). */
  const ofType = (type: string): Event => {
    for (;;) {
      const e = validEvent();
      if (e['type'] === type) return e;
    }
  };

  type Verdict = { valid: true } | { valid: false; field?: string };
  type Mutation = (e: Event) => { event: unknown; verdict: Verdict };
  const bad = (event: unknown, field?: string) => ({
    event,
    verdict: { valid: false, field } as Verdict,
  });
  const ok = (event: unknown) => ({ event, verdict: { valid: true } as Verdict });

  const invalid: Record<string, Mutation> = {
    'control or invisible character in an id': (e) => {
      const field = pick(has(e, ID_FIELDS));
      e[field] = insert(e[field] as string, pick(ID_FORBIDDEN));
      return bad(e, field);
    },
    'NUL in an accountId': (e) => {
      e['accountId'] = insert(e['accountId'] as string, '\u0000');
      return bad(e, 'accountId');
    },
    'lone surrogate in a string': (e) => {
      const target = pick(['id', 'label', 'text', 'property key', 'property value', 'bucket key']);
      const s = pick(LONE_SURROGATES);
      if (target === 'id') {
        const field = pick(has(e, ID_FIELDS));
        e[field] = insert(e[field] as string, s);
        return bad(e, field);
      }
      if (target === 'label' || target === 'text') {
        const fields = has(e, target === 'label' ? LABEL_FIELDS : TEXT_FIELDS);
        const field = fields.length > 0 ? pick(fields) : 'name';
        if (fields.length === 0) ensureProperties(e);
        e[field] = insert((e[field] as string | undefined) ?? 'x', s);
        return bad(e, field);
      }
      if (target === 'bucket key') {
        const a = ofType('audience');
        a['age'] = { [insert('18-24', s)]: 1 };
        return bad(a, 'age');
      }
      const properties = ensureProperties(e);
      if (target === 'property key') properties[insert('screen', s)] = 'home';
      else properties['screen'] = insert('home', s);
      return bad(e, 'properties');
    },
    'NUL in text': (e) => {
      const fields = has(e, TEXT_FIELDS);
      if (fields.length === 0) {
        ensureProperties(e)['note'] = insert('hello', '\u0000');
        return bad(e, 'properties');
      }
      const field = pick(fields);
      e[field] = insert(e[field] as string, '\u0000');
      return bad(e, field);
    },
    'control character in a name or key': (e) => {
      const c = pick(LABEL_CONTROLS);
      const fields = has(e, LABEL_FIELDS);
      if (fields.length > 0 && chance(0.6)) {
        const field = pick(fields);
        e[field] = insert(e[field] as string, c);
        return bad(e, field);
      }
      if (chance(0.5)) {
        ensureProperties(e)[insert('key', c)] = 1;
        return bad(e, 'properties');
      }
      const a = ofType('audience');
      a['country'] = { [insert('US', c)]: 1 };
      return bad(a, 'country');
    },
    'oversize string': (e) => {
      const which = pick(['id', 'text', 'label', 'property value', 'bucket key', 'url']);
      if (which === 'id') {
        const field = pick(has(e, ID_FIELDS));
        e[field] = 'i'.repeat(LIMITS.id + 1 + int(3));
        return bad(e, field);
      }
      if (which === 'text') {
        const c = ofType(pick(['post', 'comment']));
        const field = c['type'] === 'post' ? 'content' : 'text';
        c[field] = 't'.repeat(LIMITS.text + 1);
        return bad(c, field);
      }
      if (which === 'label') {
        const p = ofType('profile');
        p['handle'] = 'h'.repeat(LIMITS.label + 1);
        return bad(p, 'handle');
      }
      if (which === 'bucket key') {
        const a = ofType('audience');
        a['city'] = { ['k'.repeat(LIMITS.bucketKey + 1)]: 1 };
        return bad(a, 'city');
      }
      if (which === 'url') {
        const p = ofType('post');
        p['url'] = `https://example.com/${'u'.repeat(2048)}`;
        return bad(p, 'url');
      }
      ensureProperties(e)['long'] = 'v'.repeat(LIMITS.propertyValue + 1);
      return bad(e, 'properties');
    },
    'wrong type': (e) => {
      const swaps: [string, unknown][] = [
        ['id', 12345],
        ['accountId', { id: 'x' }],
        ['occurredAt', now],
        ['platform', 'myspace'],
        ['type', 'like'],
        ['platform', ['x']],
        ['id', null],
        ['id', true],
      ];
      if (e['type'] === 'engagement')
        swaps.push(['value', '5'], ['mode', 'sum'], ['metric', 'LIKES']);
      if (e['type'] === 'profile') swaps.push(['followers', '10'], ['handle', 7]);
      if (e['type'] === 'app') swaps.push(['properties', ['a']], ['properties', 'screen=home']);
      if (e['type'] === 'comment') swaps.push(['text', null], ['kind', 'reply']);
      const [field, value] = pick(swaps);
      e[field] = value;
      return bad(e, field);
    },
    'missing field': (e) => {
      const required: Record<string, string[]> = {
        engagement: ['metric', 'mode', 'value'],
        post: ['action', 'postId', 'content', 'publishedAt'],
        comment: ['kind', 'commentId', 'text'],
        profile: ['handle', 'displayName', 'followers', 'following', 'postCount'],
        audience: [],
        app: ['name'],
      };
      const field = pick([
        'id',
        'accountId',
        'occurredAt',
        'platform',
        ...(required[e['type'] as string] ?? []),
      ]);
      delete e[field];
      return bad(e, field);
    },
    'missing type': (e) => {
      delete e['type'];
      return bad(e, 'type');
    },
    'extreme number': (e) => {
      if (e['type'] === 'profile') {
        e['followers'] = pick([-1, 1.5, 2 ** 53, INFINITY]);
        return bad(e, 'followers');
      }
      if (e['type'] === 'audience') {
        e['age'] = { '18-24': pick([-0.1, INFINITY, '0.5']) };
        return bad(e, 'age');
      }
      const g = ofType('engagement');
      g['value'] = pick([1.5, 2 ** 53, -1_000_000_001, INFINITY, NEGATIVE_INFINITY, 1e300]);
      return bad(g, 'value');
    },
    'odd date': (e) => {
      if (chance(0.25)) {
        const p = ofType('post');
        p['publishedAt'] = pick(ODD_DATES_INVALID);
        return bad(p, 'publishedAt');
      }
      e['occurredAt'] = pick([
        ...ODD_DATES_INVALID,
        '1970-01-01T00:00:00Z',
        // An app event from the future is kept (a device's clock; clamped far ahead), not refused.
        ...(e['type'] === 'app'
          ? []
          : [
              // An hour past the bound, so it stays invalid however long the run takes to send it.
              new Date(now + LIMITS.futureSkewMs + 3_600_000).toISOString(),
              new Date(now + 365 * DAY).toISOString(),
            ]),
        new Date(now - LIMITS.maxAgeMs - 2 * DAY).toISOString(),
      ]);
      return bad(e, 'occurredAt');
    },
    'deep nesting': () => {
      const a = ofType('app');
      let v: unknown = 'bottom';
      for (let i = 0, depth = 200 + int(1500); i < depth; i++) v = chance(0.5) ? [v] : { v };
      (a['properties'] as Record<string, unknown>)['nested'] = v;
      return bad(a, 'properties');
    },
    'huge property map': () => {
      const a = ofType('app');
      a['properties'] = Object.fromEntries(
        Array.from({ length: LIMITS.properties + 1 + int(50) }, (_, i) => [`k${i}`, i]),
      );
      return bad(a, 'properties');
    },
    'huge bucket map': () => {
      const a = ofType('audience');
      a['interests'] = Object.fromEntries(
        Array.from({ length: LIMITS.buckets + 1 }, (_, i) => [`i${i}`, 1]),
      );
      return bad(a, 'interests');
    },
    'audience with no dimension': () => {
      const a = ofType('audience');
      for (const d of DIMENSIONS) delete a[d];
      return bad(a);
    },
    'prototype key': () => {
      const a = ofType('app');
      // Built by hand: an object literal would set the prototype instead of a key.
      Object.defineProperty(a['properties'], '__proto__', { value: 'x', enumerable: true });
      return bad(a, 'properties');
    },
    'empty id': (e) => {
      e['id'] = '';
      return bad(e, 'id');
    },
    'not an object': () => bad(pick([null, 7, 'event', [], true, [{ type: 'app' }]])),
  };

  const validHostile: Record<string, Mutation> = {
    'hostile but visible characters in ids': (e) => {
      const field = pick(has(e, ID_FIELDS).filter((f) => f !== 'id'));
      const wrapped = field && `${pick(ID_HOSTILE_OK)}${e[field] as string}${pick(ID_HOSTILE_OK)}`;
      if (field && wrapped && wrapped.length <= LIMITS.id) e[field] = wrapped;
      e['id'] = insert(e['id'] as string, pick(ID_HOSTILE_OK));
      return ok(e);
    },
    'emoji, bidi and controls in text': (e) => {
      for (const f of has(e, TEXT_FIELDS)) e[f] = insert(e[f] as string, pick(TEXT_HOSTILE_OK));
      for (const f of has(e, LABEL_FIELDS))
        e[f] = insert(e[f] as string, pick(['\u202e', '👩‍👩‍👧‍👦', 'Ω', '\u200d']));
      if (e['type'] === 'app')
        (e['properties'] as Record<string, unknown>)['bidi'] = `\u202e${pick(TEXT_HOSTILE_OK)}`;
      return ok(e);
    },
    'longest allowed strings': (e) => {
      e['id'] = `${e['id'] as string}-`.padEnd(LIMITS.id, 'z');
      if (e['type'] === 'post') e['content'] = 'é'.repeat(LIMITS.text);
      if (e['type'] === 'comment') e['text'] = '😀'.repeat(LIMITS.text / 2);
      if (e['type'] === 'profile') e['handle'] = 'h'.repeat(LIMITS.label);
      if (e['type'] === 'app') {
        e['name'] = 'n'.repeat(LIMITS.name);
        (e['properties'] as Record<string, unknown>)['k'.repeat(LIMITS.propertyKey)] = 'v'.repeat(
          LIMITS.propertyValue,
        );
      }
      return ok(e);
    },
    'full property map': () => {
      const a = ofType('app');
      a['properties'] = Object.fromEntries(
        Array.from({ length: LIMITS.properties }, (_, i) => [
          `k${i}`,
          pick([i, null, false, 'v', -0, 1e308, -5e-324]),
        ]),
      );
      return ok(a);
    },
    'full bucket map': () => {
      const a = ofType('audience');
      a['interests'] = Object.fromEntries(
        Array.from({ length: LIMITS.buckets }, (_, i) => [`i${i}`, i === 0 ? 1e308 : 0]),
      );
      return ok(a);
    },
    'extreme but allowed numbers': (e) => {
      if (e['type'] === 'engagement')
        e['value'] = pick([Number.MAX_SAFE_INTEGER, -1_000_000_000, 0, 1e15]);
      if (e['type'] === 'profile') e['followers'] = Number.MAX_SAFE_INTEGER;
      if (e['type'] === 'audience') e['age'] = { '18-24': 1e308, '25-34': 0 };
      return ok(e);
    },
    'odd but allowed dates': (e) => {
      const at = now - int(10 * DAY);
      e['occurredAt'] = pick([
        withOffset(at, 14 * 60),
        withOffset(at, -12 * 60),
        withOffset(at, 5 * 60 + 45),
        new Date(at).toISOString().replace('Z', '123456Z'),
        new Date(now + LIMITS.futureSkewMs - 60_000).toISOString(),
        new Date(now - LIMITS.maxAgeMs + 2 * DAY).toISOString(),
      ]);
      if (e['type'] === 'post') {
        e['publishedAt'] = pick([
          '1900-01-01T00:00:00Z',
          '2299-12-31T23:59:59.999Z',
          '1970-01-01T00:00:00+14:00',
        ]);
      }
      return ok(e);
    },
    'unknown extra fields': (e) => {
      e['extra'] = { nested: [1, 2, { deep: true }] };
      e['orgId'] = 'someone-else';
      return ok(e);
    },
  };

  const cases: FuzzCase[] = [];
  const accepted: FuzzCase[] = [];
  // Big maps and deep nesting are costly to build and to check; a fifth as often keeps the run short.
  const HEAVY = new Set([
    'deep nesting',
    'huge property map',
    'huge bucket map',
    'full property map',
    'full bucket map',
    'longest allowed strings',
  ]);
  const weighted = (names: string[]) =>
    names.flatMap((n) => Array<string>(HEAVY.has(n) ? 1 : 5).fill(n));
  const invalidNames = weighted(Object.keys(invalid));
  const hostileNames = weighted(Object.keys(validHostile));
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.02 && accepted.length > 0) {
      // A producer's retry: the same event again, which must be stored once.
      const again = accepted[accepted.length - 1 - int(Math.min(accepted.length, 500))]!;
      cases.push({ ...again, mutation: 'duplicated id' });
      continue;
    }
    const e = validEvent();
    let mutation = 'none';
    let result: { event: unknown; verdict: Verdict } = ok(e);
    if (r < 0.45) {
      mutation = pick(invalidNames);
      result = invalid[mutation]!(e);
    } else if (r < 0.6) {
      mutation = pick(hostileNames);
      result = validHostile[mutation]!(e);
    }
    const event = result.event as Event;
    if (result.verdict.valid) {
      const c: FuzzCase = {
        event,
        mutation,
        valid: true,
        id: event['id'] as string,
        accountId: event['accountId'] as string,
      };
      cases.push(c);
      accepted.push(c);
    } else cases.push({ event, mutation, valid: false, field: result.verdict.field });
  }
  return cases;
}

/** The same instant written in another offset, e.g. `2024-05-01T23:45:00+14:00`. */
function withOffset(ms: number, minutes: number): string {
  const local = new Date(ms + minutes * 60_000).toISOString().slice(0, 19);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}
