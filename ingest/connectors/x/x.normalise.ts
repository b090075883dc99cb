// X's answers read into envelope events. The shapes are checked, so a changed wire format stops a
// poll with a reason instead of emitting zeros. X v2 has no account insights or audience
// demographics for a user token: a profile's levels and each post's lifetime totals are all.
import { z } from 'zod';
import type { EventInput } from '../../../schema/event-envelope.ts';
import { ConnectorError } from '../connector.ts';
import { eventIdOf, postIdOf } from '../ids.ts';

const count = z.number().int().nonnegative();
const xId = z.string().regex(/^\d{1,19}$/);

const postMetricsSchema = z.object({
  like_count: count.optional(),
  reply_count: count.optional(),
  retweet_count: count.optional(),
  // The OpenAPI spec v2.167 renames retweet_count; whether the wire did is unverified.
  repost_count: count.optional(),
  quote_count: count.optional(),
  bookmark_count: count.optional(),
  impression_count: count.optional(),
});

const postSchema = z.object({
  id: xId,
  text: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  public_metrics: postMetricsSchema.optional(),
});
export type XPostWire = z.infer<typeof postSchema>;

const pageSchema = z.object({
  data: z.array(postSchema).optional(),
  meta: z
    .object({
      result_count: count,
      next_token: z.string().min(1).optional(),
    })
    .optional(),
});
export type XPage = z.infer<typeof pageSchema>;

const userSchema = z.object({
  data: z
    .object({
      id: xId,
      name: z.string(),
      username: z.string().min(1),
      public_metrics: z.object({
        followers_count: count,
        following_count: count,
        tweet_count: count.optional(),
        post_count: count.optional(),
      }),
    })
    .optional(),
});
export type XUserWire = NonNullable<z.infer<typeof userSchema>['data']>;

function read<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConnectorError(
      'failed',
      `X ${what}: unexpected answer (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
    );
  }
  return parsed.data;
}

export const readPage = (body: unknown): XPage => read(pageSchema, body, 'timeline');

export function readUser(body: unknown, userId: string): XUserWire {
  const user = read(userSchema, body, 'user lookup').data;
  if (!user) throw new ConnectorError('failed', `X user ${userId} was not found`);
  return user;
}

// Envelope strings: text holds no NUL or lone surrogate, a label no control character either.
// eslint-disable-next-line no-control-regex
const NOT_TEXT = /[\u0000\ud800-\udfff]/gu;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const cleanText = (s: string) => s.replace(NOT_TEXT, '');
const cleanLabel = (s: string) => cleanText(s).replace(CONTROL, '').slice(0, 256);

export interface EventScope {
  accountId: string;
  /** The observation time, ISO. */
  observedAt: string;
  slot: number;
}

export function profileEvent(user: XUserWire, scope: EventScope): EventInput {
  const m = user.public_metrics;
  return {
    type: 'profile',
    id: eventIdOf('x', 'profile', user.id, scope.slot),
    platform: 'x',
    accountId: scope.accountId,
    occurredAt: scope.observedAt,
    handle: cleanLabel(user.username),
    displayName: cleanLabel(user.name),
    followers: m.followers_count,
    following: m.following_count,
    postCount: m.tweet_count ?? m.post_count ?? 0,
  };
}

/** X's counters as Loupe's engagement metrics. */
function totals(metrics: z.infer<typeof postMetricsSchema>) {
  return [
    ['likes', metrics.like_count],
    ['comments', metrics.reply_count],
    ['shares', metrics.retweet_count ?? metrics.repost_count],
    ['quotes', metrics.quote_count],
    ['bookmarks', metrics.bookmark_count],
    ['impressions', metrics.impression_count],
  ] as const;
}

/** A post event and one lifetime total per counter, observed in this pass's slot. */
export function postEvents(post: XPostWire, handle: string, scope: EventScope): EventInput[] {
  const postId = postIdOf('x', post.id);
  const events: EventInput[] = [
    {
      type: 'post',
      id: eventIdOf('x', 'post', post.id),
      platform: 'x',
      accountId: scope.accountId,
      occurredAt: post.created_at,
      action: 'published',
      postId,
      // Long posts run past the envelope's 10,000; a pair cut in two loses its half.
      content: cleanText(post.text.slice(0, 10_000)),
      url: `https://x.com/${encodeURIComponent(handle)}/status/${post.id}`,
      publishedAt: post.created_at,
    },
  ];
  for (const [metric, value] of totals(post.public_metrics ?? {})) {
    if (value === undefined) continue;
    events.push({
      type: 'engagement',
      id: eventIdOf('x', 'metric', post.id, metric, scope.slot),
      platform: 'x',
      accountId: scope.accountId,
      occurredAt: scope.observedAt,
      metric,
      postId,
      mode: 'total',
      value,
    });
  }
  return events;
}
