// One post seen by an X webhook, whichever API delivered it (AAA's v1.1 tweets, XAA's v2 posts),
// and what it means for the subscribed account: its own post, a reply or mention of it, a repost
// or quote of one of its posts. Both readers build a SeenTweet and call `tweetEvents`.
import { commentIdOf, eventIdOf, postIdOf } from '../connectors/ids.ts';
import type { DraftEvent, WebhookEvent } from './receiver.ts';

type MediaType = Extract<WebhookEvent, { type: 'post' }>['mediaType'];

export interface SeenTweet {
  id: string;
  authorId: string;
  authorHandle?: string;
  text: string;
  createdAt: string;
  /** The author of the post this replies to, and that post. */
  replyTo?: { userId?: string; postId?: string };
  /** The post this reposts, when it is a plain repost. */
  reposted?: { userId?: string; postId: string };
  /** The post this quotes. */
  quoted?: { userId?: string; postId: string };
  mediaType?: MediaType;
}

export type TweetReading = { events: DraftEvent[] } | { skipped: string };

/** What `tweet` means for the account `userId`. */
export function tweetEvents(userId: string, tweet: SeenTweet): TweetReading {
  const at = tweet.createdAt;
  if (tweet.authorId === userId) {
    // A repost by the account is someone else's post, not one of its own.
    if (tweet.reposted) return { skipped: `x: ${tweet.id} is the account's repost` };
    const post: DraftEvent = {
      id: eventIdOf('x', 'post', tweet.id, 'published'),
      type: 'post',
      platform: 'x',
      action: 'published',
      occurredAt: at,
      postId: postIdOf('x', tweet.id),
      content: tweet.text,
      url: `https://x.com/${tweet.authorHandle ?? 'i'}/status/${tweet.id}`,
      publishedAt: at,
    };
    if (tweet.mediaType) post.mediaType = tweet.mediaType;
    return { events: [post] };
  }
  if (tweet.reposted) {
    if (tweet.reposted.userId !== userId) return { skipped: `x: ${tweet.id} reposts another` };
    return { events: [delta(tweet.id, 'repost', 'shares', tweet.reposted.postId, at)] };
  }
  const events: DraftEvent[] = [];
  const quotesUs = tweet.quoted !== undefined && tweet.quoted.userId === userId;
  if (quotesUs) events.push(delta(tweet.id, 'quote', 'quotes', tweet.quoted!.postId, at));
  // A post that replies to, quotes or mentions the account speaks to it; without text it says
  // nothing a comment event could hold.
  if (tweet.text.length > 0) {
    const isReply = tweet.replyTo?.userId === userId && tweet.replyTo.postId !== undefined;
    const about = isReply ? tweet.replyTo!.postId : quotesUs ? tweet.quoted!.postId : undefined;
    const comment: DraftEvent = {
      id: eventIdOf('x', 'comment', tweet.id),
      type: 'comment',
      kind: isReply ? 'comment' : 'mention',
      platform: 'x',
      occurredAt: at,
      commentId: commentIdOf('x', tweet.id),
      text: tweet.text,
    };
    if (about) comment.postId = postIdOf('x', about);
    if (tweet.authorHandle) comment.authorHandle = tweet.authorHandle.slice(0, 256);
    events.push(comment);
  }
  return events.length > 0 ? { events } : { skipped: `x: ${tweet.id} has nothing to record` };
}

/** A counter step of +1 on one of the account's posts, named after what caused it. */
export function delta(
  causeId: string,
  cause: string,
  metric: 'likes' | 'shares' | 'quotes',
  postNative: string,
  occurredAt: string,
): DraftEvent {
  return {
    id: eventIdOf('x', cause, causeId),
    type: 'engagement',
    platform: 'x',
    occurredAt,
    postId: postIdOf('x', postNative),
    metric,
    mode: 'delta',
    value: 1,
  };
}
