// A Facebook Page's `feed` changes as events. PLATFORMS.md does not describe this payload: the
// shape read here (`item`, `verb`, `post_id`, `comment_id`, `from{id,name}`, `message`,
// `created_time` in unix seconds, `published`) is UNVERIFIED, taken from how receivers commonly
// read it. Whatever does not fit is skipped with a reason rather than guessed at.
import { commentIdOf, eventIdOf, postIdOf } from '../connectors/ids.ts';
import {
  contentDigest,
  instantOf,
  isRecord,
  nativeIdOf,
  type DraftEvent,
  type WebhookEvent,
} from './receiver.ts';

const POST_ITEMS: Record<string, Extract<WebhookEvent, { type: 'post' }>['mediaType']> = {
  status: 'text',
  post: 'text',
  photo: 'image',
  video: 'video',
  share: 'link',
};

export type FeedReading = { events: DraftEvent[] } | { skipped: string };

/** One `feed` change of page `pageId`; `sentAt` is the entry's time, when Meta sent it. */
export function readFeedChange(pageId: string, value: unknown, sentAt: string): FeedReading {
  if (!isRecord(value)) return { skipped: 'feed: change without a value object' };
  const item = typeof value['item'] === 'string' ? value['item'] : '';
  const verb = typeof value['verb'] === 'string' ? value['verb'] : '';
  if (item === 'comment') return feedComment(value, verb, sentAt);
  if (item === 'reaction' || item === 'like') return feedReaction(value, verb, sentAt);
  if (item in POST_ITEMS) return feedPost(pageId, value, item, verb, sentAt);
  return { skipped: `feed: item "${item}" is not counted` };
}

function feedComment(value: Record<string, unknown>, verb: string, sentAt: string): FeedReading {
  const nativeId = nativeIdOf(value['comment_id']);
  const postNative = nativeIdOf(value['post_id']);
  const text = typeof value['message'] === 'string' ? value['message'] : '';
  if (!nativeId) return { skipped: 'feed: comment without comment_id' };
  // The envelope has no deletion: a removed comment stays as it was read.
  if (verb === 'remove') return { skipped: `feed: comment ${nativeId} removed (not recorded)` };
  if (verb !== 'add' && verb !== 'edited') return { skipped: `feed: comment verb "${verb}"` };
  // Photo or sticker comments carry no text, and a comment event needs some.
  if (text.length === 0) return { skipped: `feed: comment ${nativeId} without text` };
  const from = isRecord(value['from']) ? value['from'] : {};
  // An edit is the same comment again, later: the text store keeps the newest version.
  const edited = verb === 'edited';
  const event: DraftEvent = {
    id: edited
      ? eventIdOf('facebook', 'comment', nativeId, 'edited', contentDigest(text))
      : eventIdOf('facebook', 'comment', nativeId),
    type: 'comment',
    kind: 'comment',
    platform: 'facebook',
    occurredAt: edited ? sentAt : (instantOf(value['created_time']) ?? sentAt),
    commentId: commentIdOf('facebook', nativeId),
    text,
  };
  if (postNative) event.postId = postIdOf('facebook', postNative);
  // Facebook Login shows names, not handles: the name is the best handle there is.
  if (typeof from['name'] === 'string') event.authorHandle = from['name'].slice(0, 256);
  return { events: [event] };
}

function feedReaction(value: Record<string, unknown>, verb: string, sentAt: string): FeedReading {
  const postNative = nativeIdOf(value['post_id']);
  if (!postNative) return { skipped: 'feed: reaction without post_id (a Page like is a follow)' };
  // Reactions on comments are not the post's likes.
  if (value['comment_id'] !== undefined) return { skipped: 'feed: reaction on a comment' };
  // `edit` changes the reaction's type, not the count.
  if (verb !== 'add' && verb !== 'remove') return { skipped: `feed: reaction verb "${verb}"` };
  const from = isRecord(value['from']) ? (nativeIdOf(value['from']['id']) ?? '') : '';
  const createdAt = instantOf(value['created_time']) ?? sentAt;
  // Reactions have no id of their own: who, on what, which way and when name one.
  return {
    events: [
      {
        id: eventIdOf('facebook', 'reaction', postNative, from, verb, Date.parse(createdAt)),
        type: 'engagement',
        platform: 'facebook',
        occurredAt: createdAt,
        postId: postIdOf('facebook', postNative),
        metric: 'likes',
        mode: 'delta',
        value: verb === 'add' ? 1 : -1,
      },
    ],
  };
}

function feedPost(
  pageId: string,
  value: Record<string, unknown>,
  item: string,
  verb: string,
  sentAt: string,
): FeedReading {
  const postNative = nativeIdOf(value['post_id']);
  if (!postNative) return { skipped: `feed: ${item} without post_id` };
  if (verb === 'remove') return { skipped: `feed: post ${postNative} removed (not recorded)` };
  if (verb !== 'add' && verb !== 'edited') return { skipped: `feed: ${item} verb "${verb}"` };
  // Scheduled or unpublished posts are not public yet; a poll reads them once they are.
  if (value['published'] === 0) return { skipped: `feed: post ${postNative} not published` };
  const text = typeof value['message'] === 'string' ? value['message'] : '';
  const author = isRecord(value['from']) ? nativeIdOf(value['from']['id']) : undefined;
  const createdAt = instantOf(value['created_time']) ?? sentAt;
  if (author !== undefined && author !== pageId) {
    // A visitor's post on the Page speaks to the Page: a mention, when it says something.
    if (verb !== 'add' || text.length === 0) {
      return { skipped: `feed: visitor post ${postNative} without text or edited` };
    }
    const name = isRecord(value['from']) ? value['from']['name'] : undefined;
    const mention: DraftEvent = {
      id: eventIdOf('facebook', 'mention', postNative),
      type: 'comment',
      kind: 'mention',
      platform: 'facebook',
      occurredAt: createdAt,
      commentId: commentIdOf('facebook', postNative),
      text,
    };
    if (typeof name === 'string') mention.authorHandle = name.slice(0, 256);
    return { events: [mention] };
  }
  const edited = verb === 'edited';
  return {
    events: [
      {
        id: edited
          ? eventIdOf('facebook', 'post', postNative, 'updated', contentDigest(text))
          : eventIdOf('facebook', 'post', postNative, 'published'),
        type: 'post',
        platform: 'facebook',
        action: edited ? 'updated' : 'published',
        occurredAt: edited ? sentAt : createdAt,
        postId: postIdOf('facebook', postNative),
        content: text,
        mediaType: POST_ITEMS[item],
        publishedAt: createdAt,
      },
    ],
  };
}
