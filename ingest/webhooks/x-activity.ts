// X Activity API (XAA) deliveries: `{data: {event_uuid, event_type, filter: {user_id}, payload,
// includes}}` (PLATFORMS.md B.6). The envelope is documented there; the payloads are not. Post
// payloads are read as v2 post objects (`id`, `text`, `author_id`, `created_at`,
// `referenced_tweets`) and a like's post id as `liked_tweet_id` or `tweet_id`: both UNVERIFIED.
import { emptyNormalised, instantOf, isRecord, nativeIdOf, type Normalised } from './receiver.ts';
import { delta, tweetEvents, type SeenTweet } from './x-tweet.ts';

const POST_EVENTS = new Set([
  'post.create',
  'post.mention.create',
  'post.reply.create',
  'post.quote.create',
  'post.repost.create',
]);

/** A delivery holds one event; an array of them is read too, as the stream could batch. */
export function readActivity(data: unknown, receivedAt: number): Normalised | string {
  const out = emptyNormalised();
  const items = Array.isArray(data) ? data : [data];
  for (const item of items) {
    const why = readOne(item, receivedAt, out);
    if (why) return why;
  }
  return out;
}

/** Adds one XAA event to `out`; returns why the envelope is unreadable, if it is. */
function readOne(item: unknown, receivedAt: number, out: Normalised): string | undefined {
  if (!isRecord(item)) return 'data must be an object';
  const uuid = nativeIdOf(item['event_uuid']);
  const type = typeof item['event_type'] === 'string' ? item['event_type'] : undefined;
  const userId = isRecord(item['filter']) ? nativeIdOf(item['filter']['user_id']) : undefined;
  if (!uuid || !type) return 'data needs event_uuid and event_type';
  if (!userId) {
    out.skipped.push(`xaa: ${type} without filter.user_id`);
    return undefined;
  }
  const ref = { platform: 'x' as const, platformAccountId: userId };
  const payload = isRecord(item['payload']) ? item['payload'] : {};
  const fallback = new Date(receivedAt).toISOString();
  if (type === 'oauth.revoke') {
    out.revoked.push({ ...ref, reason: 'the user revoked the app (oauth.revoke)' });
  } else if (POST_EVENTS.has(type)) {
    const tweet = v2Post(payload, type, userId, item['includes'], fallback);
    const reading = tweet ? tweetEvents(userId, tweet) : { skipped: `xaa: ${type} unreadable` };
    if ('skipped' in reading) out.skipped.push(reading.skipped);
    else for (const event of reading.events) out.events.push({ ...ref, event });
  } else if (type === 'like.create') {
    // Outbound likes are the account liking others' posts: not engagement on its own.
    const postId = nativeIdOf(payload['liked_tweet_id']) ?? nativeIdOf(payload['tweet_id']);
    const filter = item['filter'] as Record<string, unknown>;
    if (filter['direction'] === 'outbound' || payload['direction'] === 'outbound') {
      out.skipped.push(`xaa: outbound like ${uuid}`);
    } else if (!postId) {
      out.skipped.push(`xaa: like ${uuid} without a post id`);
    } else {
      const at = instantOf(payload['created_at']) ?? fallback;
      out.events.push({ ...ref, event: delta(uuid, 'like', 'likes', postId, at) });
    }
  } else {
    // Follows are the profile poll's totals; deletions, profiles, DMs, chats, mutes, blocks,
    // Spaces, broadcasts and news are not analytics the envelope holds.
    out.skipped.push(`xaa: ${type} is not counted`);
  }
  return undefined;
}

/**
 * A v2 post as a SeenTweet. The event type says how it relates to the account: a reply, quote
 * or repost event by someone else is about one of the account's posts, even though a v2 post
 * does not name the referenced post's author.
 */
function v2Post(
  payload: Record<string, unknown>,
  type: string,
  userId: string,
  includes: unknown,
  fallback: string,
): SeenTweet | null {
  const id = nativeIdOf(payload['id']);
  const authorId =
    nativeIdOf(payload['author_id']) ?? (type === 'post.create' ? userId : undefined);
  if (!id || !authorId) return null;
  const tweet: SeenTweet = {
    id,
    authorId,
    text: typeof payload['text'] === 'string' ? payload['text'] : '',
    createdAt: instantOf(payload['created_at']) ?? fallback,
  };
  const handle = handleOf(includes, authorId);
  if (handle) tweet.authorHandle = handle;
  const refs = Array.isArray(payload['referenced_tweets']) ? payload['referenced_tweets'] : [];
  for (const ref of refs) {
    const postId = isRecord(ref) ? nativeIdOf(ref['id']) : undefined;
    if (!isRecord(ref) || !postId) continue;
    const owner = (event: string) => (type === event ? userId : undefined);
    if (ref['type'] === 'replied_to') {
      tweet.replyTo = { userId: owner('post.reply.create'), postId };
    } else if (ref['type'] === 'quoted') {
      tweet.quoted = { userId: owner('post.quote.create'), postId };
    } else if (ref['type'] === 'retweeted') {
      tweet.reposted = { userId: owner('post.repost.create'), postId };
    }
  }
  if (tweet.replyTo === undefined && nativeIdOf(payload['in_reply_to_user_id']) === userId) {
    tweet.replyTo = { userId };
  }
  return tweet;
}

function handleOf(includes: unknown, authorId: string): string | undefined {
  const users = isRecord(includes) && Array.isArray(includes['users']) ? includes['users'] : [];
  for (const user of users) {
    if (isRecord(user) && user['id'] === authorId && typeof user['username'] === 'string') {
      return user['username'];
    }
  }
  return undefined;
}
