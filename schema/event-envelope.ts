// The one event envelope every producer (collector, webhooks, connectors) publishes to the bus.
// Producers send `EventInput`; the collector adds the organisation from the verified API key.
import { z } from 'zod';

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
] as const;
/** Every metric the API answers: engagement, profile levels, and what app events derive. */
export const METRICS = [
  ...ENGAGEMENT_METRICS,
  'followers',
  'following',
  'post_count',
  'app_events',
  'unique_users',
] as const;
export type MetricName = (typeof METRICS)[number];

const id = z.string().min(1).max(128);
const text = z.string().max(10_000);
// Event time must be a real instant; the lateness bound is enforced by the collector, not here.
const instant = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const buckets = z
  .record(z.string().min(1).max(64), z.number().nonnegative())
  .refine((b) => Object.keys(b).length <= 500, 'at most 500 buckets');

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
  content: text,
  url: z.url().max(2048).optional(),
  mediaType: z.enum(['text', 'image', 'video', 'carousel', 'link']).optional(),
  publishedAt: instant,
});

export const commentEventSchema = z.object({
  ...base,
  type: z.literal('comment'),
  kind: z.enum(['comment', 'mention']),
  commentId: id,
  postId: id.optional(),
  authorHandle: z.string().max(256).optional(),
  text: text.min(1),
});

export const profileEventSchema = z.object({
  ...base,
  type: z.literal('profile'),
  handle: z.string().min(1).max(256),
  displayName: z.string().max(256),
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

const propertyValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

export const appEventSchema = z.object({
  ...base,
  type: z.literal('app'),
  name: z.string().min(1).max(128),
  userId: id.optional(),
  postId: id.optional(),
  properties: z
    .record(z.string().min(1).max(128), propertyValue)
    .refine((p) => Object.keys(p).length <= 100, 'at most 100 properties')
    .default({}),
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

/** Reads a bus message back into an envelope, or says why it cannot. */
export function parseEnvelope(
  raw: string,
): { ok: true; envelope: EventEnvelope } | { ok: false; reason: string } {
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
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
