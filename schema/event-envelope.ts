// The one event envelope every producer (collector, webhooks, connectors) publishes to the bus.
// Producers send `EventInput`; the collector adds the organisation from the verified API key.
import { z } from 'zod';
import { forbiddenCharacter, type StringKind } from './event-strings.ts';

export const PLATFORMS = ['facebook', 'instagram', 'x', 'tiktok', 'app'] as const;
export const platformSchema = z.enum(PLATFORMS);
export type Platform = z.infer<typeof platformSchema>;

/** Counters a platform reports on a post or an account. */
export const ENGAGEMENT_METRICS = [
  'likes',
  'comments',
  'shares',
  'saves',
  'views',
  'impressions',
  'reach',
  'clicks',
  // X's own counters: quoted reposts, and bookmarks (private saves).
  'quotes',
  'bookmarks',
] as const;
/**
 * Every metric the API answers: the platforms' counters, profile levels, what app events derive,
 * and engagements, the sum of each platform's engagement counters (schema/engagement.ts).
 */
export const METRICS = [
  ...ENGAGEMENT_METRICS,
  'engagements',
  'followers',
  'following',
  'post_count',
  'app_events',
  'unique_users',
] as const;
export type MetricName = (typeof METRICS)[number];

/** A string of `kind` (see event-strings.ts for what each may hold), bounded in UTF-16 units. */
function str(kind: StringKind, min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .superRefine((value, ctx) => {
      const why = forbiddenCharacter(value, kind);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    });
}

const id = str('id', 1, 128);
const text = (min = 0) => str('text', min, 10_000);
const label = (min: number, max: number) => str('label', min, max);

/** The instants the event store can hold: ClickHouse DateTime64(3) covers 1900..2299. */
export const EARLIEST_INSTANT = Date.UTC(1900, 0, 1);
export const LATEST_INSTANT = Date.UTC(2300, 0, 1) - 1;
// A real instant, with its offset, that every store can hold. How late or early an event may be
// against the receiving clock is the door's business: see `checkEventTime`.
const instant = z.iso.datetime({ offset: true, abort: true }).superRefine((value, ctx) => {
  const ms = Date.parse(value);
  if (!(ms >= EARLIEST_INSTANT && ms <= LATEST_INSTANT)) {
    ctx.addIssue({
      code: 'custom',
      message: `${value} is outside 1900-01-01..2299-12-31 (UTC), the range the event store holds`,
    });
  }
});
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * A map from names to values. `__proto__` is refused, not dropped: a JSON key of that name would
 * otherwise vanish while parsing and the event be stored without it.
 */
function keyed<V extends z.ZodType>(key: z.ZodType<string>, value: V, max: number, what: string) {
  return z
    .unknown()
    .check((ctx) => {
      if (
        ctx.value !== null &&
        typeof ctx.value === 'object' &&
        Object.hasOwn(ctx.value, '__proto__')
      ) {
        ctx.issues.push({
          code: 'custom',
          message: 'the key __proto__ is reserved',
          input: ctx.value,
        });
      }
    })
    .pipe(
      z.record(key, value).refine((m) => Object.keys(m).length <= max, `at most ${max} ${what}`),
    );
}

// z.number() refuses Infinity and NaN (JSON's 1e999 parses as Infinity): every value is finite.
const buckets = keyed(label(1, 64), z.number().nonnegative(), 500, 'buckets');

const base = {
  /** Producer-chosen, unique per organisation: the idempotency key of the whole pipeline. */
  id,
  platform: platformSchema,
  accountId: id,
  occurredAt: instant,
};

export const engagementEventSchema = z.object({
  ...base,
  type: z.literal('engagement'),
  metric: z.enum(ENGAGEMENT_METRICS),
  postId: id.optional(),
  /** `delta`: occurrences (webhooks, app events); `total`: a lifetime count read from an API. */
  mode: z.enum(['delta', 'total']),
  value: z.number().int().min(-1_000_000_000).max(Number.MAX_SAFE_INTEGER),
});

export const postEventSchema = z.object({
  ...base,
  type: z.literal('post'),
  action: z.enum(['published', 'updated']),
  postId: id,
  content: text(),
  url: z.url().max(2048).pipe(label(1, 2048)).optional(),
  mediaType: z.enum(['text', 'image', 'video', 'carousel', 'link']).optional(),
  publishedAt: instant,
});

export const commentEventSchema = z.object({
  ...base,
  type: z.literal('comment'),
  kind: z.enum(['comment', 'mention']),
  commentId: id,
  postId: id.optional(),
  authorHandle: label(0, 256).optional(),
  text: text(1),
});

export const profileEventSchema = z.object({
  ...base,
  type: z.literal('profile'),
  handle: label(1, 256),
  displayName: label(0, 256),
  followers: count,
  following: count,
  postCount: count,
});

export const audienceEventSchema = z
  .object({
    ...base,
    type: z.literal('audience'),
    age: buckets.optional(),
    gender: buckets.optional(),
    country: buckets.optional(),
    city: buckets.optional(),
    interests: buckets.optional(),
  })
  .refine(
    (e) => e.age ?? e.gender ?? e.country ?? e.city ?? e.interests,
    'an audience snapshot needs at least one of age, gender, country, city, interests',
  );

/** Bounds of an app event's properties: any JSON object within them. */
export const PROPERTY_LIMITS = {
  /** Names in a path: `device.os.version` is 3. */
  depth: 5,
  /** Names at the top level, and values (leaves) in all. */
  topLevel: 100,
  leaves: 200,
  arrayItems: 100,
  text: 1024,
  bytes: 16 * 1024,
} as const;

/** Why a property name cannot be one, or null. Dots join the names of a path, so none holds one. */
function badPropertyName(name: string): string | null {
  if (name.length < 1 || name.length > 128) return 'a name is 1 to 128 characters';
  if (name === '__proto__') return 'the key __proto__ is reserved';
  if (name.includes('.'))
    return 'a name holds no "." (it joins the names of a path); nest an object';
  return forbiddenCharacter(name, 'label');
}

/**
 * Any JSON object within PROPERTY_LIMITS: strings, finite numbers, booleans and nulls, in arrays
 * and objects nested up to `depth` names deep. A nested `__proto__` is refused like a top one.
 */
const jsonProperties = z.unknown().superRefine((value, ctx) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'properties must be a JSON object' });
    return;
  }
  let leaves = 0;
  const fail = (path: PropertyKey[], message: string) => {
    ctx.addIssue({ code: 'custom', message, path });
    return false;
  };
  // False once an issue is raised: one reason per event is enough, and walking on costs time.
  const walk = (v: unknown, path: PropertyKey[], names: number): boolean => {
    if (v === null || typeof v === 'boolean')
      return (
        ++leaves <= PROPERTY_LIMITS.leaves ||
        fail(path, `at most ${PROPERTY_LIMITS.leaves} values in all`)
      );
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return fail(path, 'a number must be finite');
      return (
        ++leaves <= PROPERTY_LIMITS.leaves ||
        fail(path, `at most ${PROPERTY_LIMITS.leaves} values in all`)
      );
    }
    if (typeof v === 'string') {
      if (v.length > PROPERTY_LIMITS.text)
        return fail(path, `a text holds at most ${PROPERTY_LIMITS.text} characters`);
      const why = forbiddenCharacter(v, 'text');
      if (why) return fail(path, why);
      return (
        ++leaves <= PROPERTY_LIMITS.leaves ||
        fail(path, `at most ${PROPERTY_LIMITS.leaves} values in all`)
      );
    }
    if (Array.isArray(v)) {
      if (v.length > PROPERTY_LIMITS.arrayItems)
        return fail(path, `a list holds at most ${PROPERTY_LIMITS.arrayItems} items`);
      return v.every((item, i) => walk(item, [...path, i], names));
    }
    if (typeof v !== 'object') return fail(path, 'not a JSON value');
    if (names >= PROPERTY_LIMITS.depth) {
      return fail(path, `properties nest at most ${PROPERTY_LIMITS.depth} names deep`);
    }
    const keys = Object.keys(v);
    if (Object.hasOwn(v, '__proto__') && !keys.includes('__proto__')) keys.push('__proto__');
    if (names === 0 && keys.length > PROPERTY_LIMITS.topLevel) {
      return fail(path, `at most ${PROPERTY_LIMITS.topLevel} properties`);
    }
    return keys.every((key) => {
      const why = badPropertyName(key);
      // Said of the object holding it: the name itself would vanish from a parsed path.
      if (key === '__proto__') return fail(path, why!);
      if (why) return fail([...path, key], `key ${why}`);
      return walk((v as Record<string, unknown>)[key], [...path, key], names + 1);
    });
  };
  if (!walk(value, [], 0)) return;
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > PROPERTY_LIMITS.bytes) {
    ctx.addIssue({
      code: 'custom',
      message: `${bytes} bytes as JSON; at most ${PROPERTY_LIMITS.bytes}`,
    });
  }
}) as z.ZodType<Record<string, unknown>>;

const personValue = z.union([
  str('text', 0, PROPERTY_LIMITS.text),
  z.number(),
  z.boolean(),
  z.null(),
]);
/** Person properties an event sets: names to scalars, one level (a person has no nested ones). */
const personProperties = z
  .record(
    z.string().superRefine((name, ctx) => {
      const why = badPropertyName(name);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    }),
    personValue,
  )
  .refine(
    (m) => Object.keys(m).length <= PROPERTY_LIMITS.topLevel,
    `at most ${PROPERTY_LIMITS.topLevel} properties`,
  );

export const appEventSchema = z.object({
  ...base,
  type: z.literal('app'),
  name: label(1, 128),
  /** The user (PostHog's distinct id). Events without one count in totals, never as users. */
  userId: id.optional(),
  sessionId: id.optional(),
  postId: id.optional(),
  properties: jsonProperties.default({}),
  /** When the SDK sent the batch, by its clock: corrects `occurredAt` for its skew. */
  sentAt: instant.optional(),
  /** Person properties: the latest value of each wins ($set). */
  set: personProperties.optional(),
  /** Person properties kept only if the person has none of that name yet ($set_once). */
  setOnce: personProperties.optional(),
});

export const eventInputSchema = z.discriminatedUnion('type', [
  engagementEventSchema,
  postEventSchema,
  commentEventSchema,
  profileEventSchema,
  audienceEventSchema,
  appEventSchema,
]);
export type EventInput = z.infer<typeof eventInputSchema>;
export type EventType = EventInput['type'];

/** What travels on the bus: the producer's event plus what the platform side vouches for. */
export interface EventEnvelope {
  orgId: string;
  /** Milliseconds since the epoch, set by the receiving service. */
  receivedAt: number;
  event: EventInput;
}

export const eventEnvelopeSchema = z.object({
  orgId: id,
  receivedAt: z.number().int().nonnegative(),
  event: eventInputSchema,
});

/**
 * The largest envelope, as JSON, a producer may publish: half of Kafka's default 1 MB message
 * limit, so one event never makes a publish fail that no retry can cure.
 */
export const MAX_ENVELOPE_BYTES = 512 * 1024;

/** The envelope as its bus message, or why it cannot be one. */
export function serializeEnvelope(
  envelope: EventEnvelope,
): { ok: true; value: string } | { ok: false; reason: string } {
  const value = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ENVELOPE_BYTES) {
    return {
      ok: false,
      reason: `event: ${bytes} bytes as JSON, more than the ${MAX_ENVELOPE_BYTES} bytes a message may hold`,
    };
  }
  return { ok: true, value };
}

/** How far from the receiving clock an event's time may be; `lib/config.ts` holds the values. */
export interface EventTimeWindow {
  /** Event clocks may run a little ahead of ours; further ahead is a producer bug. */
  maxFutureSkewMs: number;
  /** App events may be this far ahead (devices' clocks); the collector clamps them to it. */
  appFutureClampMs: number;
  /** Older events are refused: see `EVENT_TIME_WINDOW` in lib/config.ts for why there is a bound. */
  maxAgeMs: number;
}

/** Why an event's time is outside the window around `receivedAt`; null when it is inside. */
export function checkEventTime(
  event: EventInput,
  receivedAt: number,
  window: EventTimeWindow,
): string | null {
  const at = Date.parse(event.occurredAt);
  const ahead = event.type === 'app' ? window.appFutureClampMs : window.maxFutureSkewMs;
  if (at > receivedAt + ahead) {
    return `occurredAt: more than ${describeSpan(ahead)} in the future`;
  }
  if (at < receivedAt - window.maxAgeMs) {
    return `occurredAt: more than ${describeSpan(window.maxAgeMs)} in the past, the most an event may be late`;
  }
  return null;
}

function describeSpan(ms: number): string {
  const day = 86_400_000;
  if (ms >= day && ms % day === 0) return `${ms / day} days`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} hours`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return `${ms / 1000} seconds`;
}

/** Reads a bus message back into an envelope, or says why it cannot. */
export function parseEnvelope(
  raw: string,
): { ok: true; envelope: EventEnvelope } | { ok: false; reason: string } {
  if (Buffer.byteLength(raw, 'utf8') > MAX_ENVELOPE_BYTES) {
    return { ok: false, reason: `message exceeds ${MAX_ENVELOPE_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'message is not JSON' };
  }
  const parsed = eventEnvelopeSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  return { ok: true, envelope: parsed.data };
}

/** One line per problem, with the path that caused it: what a caller needs to fix its event. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      // A bad map key says why through its own issues; the generic message alone does not.
      const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
      const message = inner ? `key ${inner}` : issue.message;
      return issue.path.length ? `${describePath(issue.path)}: ${message}` : message;
    })
    .join('; ');
}

/** A path as dotted names; a key that is not a plain name is quoted and escaped, and shortened. */
function describePath(path: readonly PropertyKey[]): string {
  return path
    .map((part) => {
      const name = String(part);
      if (/^[\w-]{1,64}$/.test(name)) return name;
      const points = Array.from(name);
      const short = points.length > 32 ? `${points.slice(0, 32).join('')}…` : name;
      return JSON.stringify(short);
    })
    .join('.');
}
