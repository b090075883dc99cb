// TikTok's user and videos as envelope events. The Display API has no account insights and no
// audience demographics (those are in TikTok's business APIs, not here): a profile per poll,
// and each video's lifetime totals, is all it gives.
import { postEventSchema, type EventInput } from '../../../schema/event-envelope.ts';
import { eventIdOf, postIdOf } from '../ids.ts';
import type { TikTokUser, TikTokVideo } from './tiktok.api.ts';

// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// With the u flag this matches only surrogates that are not half of a pair.
const LONE_SURROGATES = /[\ud800-\udfff]/gu;
const wellFormed = (text: string) => text.replace(LONE_SURROGATES, '');

/** A one-line name the envelope accepts: no controls, well-formed, at most `max` units. */
function label(text: string, max = 256): string {
  return wellFormed(wellFormed(text.replace(CONTROLS, ' ')).slice(0, max)).trim();
}

/** Post text the envelope accepts: everything but NUL and broken surrogates. */
function content(text: string): string {
  return wellFormed(wellFormed(text.replaceAll('\u0000', '')).slice(0, 10_000));
}

export function profileEvent(
  user: TikTokUser,
  accountId: string,
  slot: number,
  observedAt: number,
): EventInput {
  const displayName = label(user.display_name ?? '');
  return {
    id: eventIdOf('tiktok', 'profile', user.open_id, slot),
    type: 'profile',
    platform: 'tiktok',
    accountId,
    occurredAt: new Date(observedAt).toISOString(),
    handle: label(user.username ?? '') || displayName || user.open_id,
    displayName,
    followers: user.follower_count,
    following: user.following_count,
    postCount: user.video_count,
  };
}

const METRICS = [
  ['likes', 'like_count'],
  ['comments', 'comment_count'],
  ['shares', 'share_count'],
  ['views', 'view_count'],
] as const;

/** The video as a post, and its lifetime totals as read at `observedAt`, ids keyed by `slot`. */
export function videoEvents(
  video: TikTokVideo,
  accountId: string,
  slot: number,
  observedAt: number,
): EventInput[] {
  const postId = postIdOf('tiktok', video.id);
  const publishedAt = new Date(video.create_time * 1000).toISOString();
  const url = postEventSchema.shape.url.safeParse(video.share_url);
  const events: EventInput[] = [
    {
      id: eventIdOf('tiktok', 'post', video.id),
      type: 'post',
      platform: 'tiktok',
      accountId,
      occurredAt: publishedAt,
      action: 'published',
      postId,
      content: content(video.title || video.video_description || ''),
      ...(url.success && url.data !== undefined && { url: url.data }),
      mediaType: 'video',
      publishedAt,
    },
  ];
  const occurredAt = new Date(observedAt).toISOString();
  for (const [metric, field] of METRICS) {
    const value = video[field];
    if (value === undefined) continue;
    events.push({
      id: eventIdOf('tiktok', 'metric', video.id, metric, slot),
      type: 'engagement',
      platform: 'tiktok',
      accountId,
      occurredAt,
      metric,
      postId,
      mode: 'total',
      value,
    });
  }
  return events;
}
