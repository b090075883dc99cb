// X's Account Activity API deliveries (PLATFORMS.md B.6): `{for_user_id, <event key>: [...]}`
// with v1.1 tweet and user objects. Posts, replies, mentions, quotes, reposts and likes of the
// account's posts become events; a revoke is reported; the rest is skipped, with why.
import { emptyNormalised, instantOf, isRecord, nativeIdOf, type Normalised } from './receiver.ts';
import { delta, tweetEvents, type SeenTweet } from './x-tweet.ts';

/** Event keys read for nothing, and why: said once per delivery in `skipped`. */
const NOT_COUNTED: Record<string, string> = {
  // Followers are a profile total the poll reads; counting follows here would drift from it.
  follow_events: 'follows are counted by the profile poll',
  unfollow_events: 'follows are counted by the profile poll',
  // Blocks, mutes and direct messages are private relations and conversations, not analytics.
  block_events: 'blocks are not analytics',
  mute_events: 'mutes are not analytics',
  direct_message_events: 'direct messages are not analytics',
  direct_message_indicate_typing_events: 'direct messages are not analytics',
  direct_message_mark_read_events: 'direct messages are not analytics',
  // The envelope has no deletion: a deleted post stays as it was read.
  tweet_delete_events: 'deletions are not recorded',
  replay_job_status: 'replay status is not an event',
};

export function readAccountActivity(
  json: Record<string, unknown>,
  userId: string,
  receivedAt: number,
): Normalised {
  const out = emptyNormalised();
  const ref = { platform: 'x' as const, platformAccountId: userId };
  const fallback = new Date(receivedAt).toISOString();
  for (const [key, value] of Object.entries(json)) {
    if (key === 'for_user_id' || key === 'user_has_blocked') continue;
    if (key === 'tweet_create_events' && Array.isArray(value)) {
      for (const raw of value) {
        const tweet = seenTweet(raw, fallback);
        const reading = tweet ? tweetEvents(userId, tweet) : { skipped: 'x: unreadable tweet' };
        if ('skipped' in reading) out.skipped.push(reading.skipped);
        else for (const event of reading.events) out.events.push({ ...ref, event });
      }
    } else if (key === 'favorite_events' && Array.isArray(value)) {
      for (const raw of value) {
        const like = favorite(raw, userId, fallback);
        if (typeof like === 'string') out.skipped.push(like);
        else out.events.push({ ...ref, event: like });
      }
    } else if (key === 'user_event' && isRecord(value) && isRecord(value['revoke'])) {
      const revoke = value['revoke'];
      const source = isRecord(revoke['source']) ? nativeIdOf(revoke['source']['user_id']) : '';
      const when = typeof revoke['date_time'] === 'string' ? ` at ${revoke['date_time']}` : '';
      out.revoked.push({
        platform: 'x',
        platformAccountId: source || userId,
        reason: `the user revoked the app's access${when}`,
      });
    } else {
      out.skipped.push(`x: ${key}: ${NOT_COUNTED[key] ?? 'not read'}`);
    }
  }
  return out;
}

/** A v1.1 tweet as a SeenTweet; null when it lacks an id or an author. */
export function seenTweet(raw: unknown, fallback: string): SeenTweet | null {
  if (!isRecord(raw) || !isRecord(raw['user'])) return null;
  const id = nativeIdOf(raw['id_str']);
  const authorId = nativeIdOf(raw['user']['id_str']);
  if (!id || !authorId) return null;
  const extended = isRecord(raw['extended_tweet']) ? raw['extended_tweet']['full_text'] : undefined;
  const text = [extended, raw['full_text'], raw['text']].find((t) => typeof t === 'string');
  const tweet: SeenTweet = {
    id,
    authorId,
    text: typeof text === 'string' ? text : '',
    createdAt: instantOf(raw['timestamp_ms']) ?? instantOf(raw['created_at']) ?? fallback,
  };
  if (typeof raw['user']['screen_name'] === 'string')
    tweet.authorHandle = raw['user']['screen_name'];
  const replyPost = nativeIdOf(raw['in_reply_to_status_id_str']);
  const replyUser = nativeIdOf(raw['in_reply_to_user_id_str']);
  if (replyPost || replyUser) tweet.replyTo = { userId: replyUser, postId: replyPost };
  const reposted = referenced(raw['retweeted_status']);
  if (reposted) tweet.reposted = reposted;
  const quoted = referenced(raw['quoted_status']);
  if (quoted) tweet.quoted = quoted;
  const media = isRecord(raw['extended_entities']) ? raw['extended_entities']['media'] : undefined;
  tweet.mediaType = mediaTypeOf(Array.isArray(media) ? media : []);
  return tweet;
}

function referenced(raw: unknown): { userId?: string; postId: string } | undefined {
  if (!isRecord(raw)) return undefined;
  const postId = nativeIdOf(raw['id_str']);
  if (!postId) return undefined;
  const userId = isRecord(raw['user']) ? nativeIdOf(raw['user']['id_str']) : undefined;
  return { userId, postId };
}

function mediaTypeOf(media: unknown[]): SeenTweet['mediaType'] {
  const types = media.map((m) => (isRecord(m) ? m['type'] : undefined));
  if (types.some((t) => t === 'video' || t === 'animated_gif')) return 'video';
  if (types.length > 1) return 'carousel';
  if (types.length === 1) return 'image';
  return 'text';
}

/** A like of one of the account's posts as a +1; a string says why it is not one. */
function favorite(raw: unknown, userId: string, fallback: string) {
  if (!isRecord(raw)) return 'x: unreadable favorite event';
  const id = nativeIdOf(raw['id']);
  const post = referenced(raw['favorited_status']);
  if (!id || !post) return 'x: favorite event without id or favorited_status';
  // The account's own likes of others' posts are not engagement on its posts.
  if (post.userId !== userId) return `x: favorite ${id} is of another account's post`;
  const at = instantOf(raw['timestamp_ms']) ?? instantOf(raw['created_at']) ?? fallback;
  return delta(id, 'favorite', 'likes', post.postId, at);
}
