// How X deliveries read, both APIs: which posts are the account's, which speak to it, which
// count on its posts, and what is skipped. Every event read must pass the envelope.
import { describe, expect, test } from 'vitest';
import { eventInputSchema } from '../../schema/event-envelope.ts';
import { eventIdOf, postIdOf } from '../connectors/ids.ts';
import type { Normalised } from './receiver.ts';
import { readXDelivery } from './x.webhook.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ms = String(NOW - 60_000);

function read(json: unknown): Normalised {
  const reading = readXDelivery(json, NOW);
  if (!reading.ok) throw new Error(reading.reason);
  for (const { event } of reading.normalised.events) {
    expect(eventInputSchema.safeParse({ ...event, accountId: 'a' }).success).toBe(true);
  }
  return reading.normalised;
}

const user = (id: string, screen_name = `u${id}`) => ({ id_str: id, screen_name });

describe('Account Activity', () => {
  test('mentions, reposts, quotes, and the account’s own reposts and media posts', () => {
    const n = read({
      for_user_id: '42',
      tweet_create_events: [
        {
          id_str: '1',
          timestamp_ms: ms,
          text: 'hey @us',
          user: user('7'),
          user_has_blocked: 'false',
        },
        {
          id_str: '2',
          timestamp_ms: ms,
          text: 'RT',
          user: user('7'),
          retweeted_status: { id_str: '100', user: user('42') },
        },
        {
          id_str: '3',
          timestamp_ms: ms,
          text: 'look',
          user: user('7'),
          quoted_status: { id_str: '101', user: user('42') },
        },
        {
          id_str: '4',
          timestamp_ms: ms,
          text: 'RT',
          user: user('42'),
          retweeted_status: { id_str: '5', user: user('7') },
        },
        {
          id_str: '6',
          created_at: 'Mon Jun 01 11:00:00 +0000 2026',
          text: 'pics',
          user: user('42', 'loupe'),
          extended_entities: { media: [{ type: 'photo' }, { type: 'photo' }] },
        },
      ],
      follow_events: [{ type: 'follow' }],
      tweet_delete_events: [{ status: { id: '6', user_id: '42' } }],
    });
    expect(n.events.map(({ event }) => [event.id, event.type])).toEqual([
      [eventIdOf('x', 'comment', '1'), 'comment'],
      [eventIdOf('x', 'repost', '2'), 'engagement'],
      [eventIdOf('x', 'quote', '3'), 'engagement'],
      [eventIdOf('x', 'comment', '3'), 'comment'],
      [eventIdOf('x', 'post', '6', 'published'), 'post'],
    ]);
    const [mention, repost, quote, quoteComment, own] = n.events.map((e) => e.event);
    expect(mention).toMatchObject({ kind: 'mention', authorHandle: 'u7' });
    expect(mention).not.toHaveProperty('postId');
    expect(repost).toMatchObject({ metric: 'shares', value: 1, postId: postIdOf('x', '100') });
    expect(quote).toMatchObject({ metric: 'quotes', postId: postIdOf('x', '101') });
    expect(quoteComment).toMatchObject({ kind: 'mention', postId: postIdOf('x', '101') });
    expect(own).toMatchObject({
      mediaType: 'carousel',
      url: 'https://x.com/loupe/status/6',
      publishedAt: '2026-06-01T11:00:00.000Z',
    });
    expect(n.skipped).toEqual([
      "x: 4 is the account's repost",
      'x: follow_events: follows are counted by the profile poll',
      'x: tweet_delete_events: deletions are not recorded',
    ]);
  });

  test('likes the account gives are not counted; a revoke is reported', () => {
    const n = read({
      for_user_id: '42',
      favorite_events: [
        {
          id: 'f-2',
          timestamp_ms: ms,
          favorited_status: { id_str: '9', user: user('7') },
          user: user('42'),
        },
      ],
      user_event: {
        revoke: {
          date_time: '2026-06-01T11:00:00Z',
          target: { app_id: '1' },
          source: { user_id: '42' },
        },
      },
    });
    expect(n.events).toEqual([]);
    expect(n.skipped).toEqual(["x: favorite f-2 is of another account's post"]);
    expect(n.revoked).toEqual([
      {
        platform: 'x',
        platformAccountId: '42',
        reason: "the user revoked the app's access at 2026-06-01T11:00:00Z",
      },
    ]);
  });

  test('a body of neither API is refused', () => {
    expect(readXDelivery({ hello: 1 }, NOW).ok).toBe(false);
    expect(readXDelivery({ data: { event_type: 'post.create' } }, NOW).ok).toBe(false);
  });
});

describe('X Activity', () => {
  const xaa = (event_type: string, payload: unknown, extra: object = {}) => ({
    data: {
      event_uuid: `u-${event_type}`,
      event_type,
      filter: { user_id: '42' },
      payload,
      ...extra,
    },
  });

  test('a reply to the account names its post; the same post via AAA has the same event id', () => {
    const reply = read(
      xaa(
        'post.reply.create',
        {
          id: '77',
          text: 'agreed',
          author_id: '7',
          created_at: '2026-06-01T11:59:00.000Z',
          referenced_tweets: [{ type: 'replied_to', id: '9001' }],
        },
        { includes: { users: [{ id: '7', username: 'friend' }] } },
      ),
    );
    expect(reply.events[0]?.event).toMatchObject({
      id: eventIdOf('x', 'comment', '77'),
      kind: 'comment',
      postId: postIdOf('x', '9001'),
      authorHandle: 'friend',
    });
    const own = read(
      xaa('post.create', { id: '78', text: 'mine', created_at: '2026-06-01T11:59:00.000Z' }),
    );
    expect(own.events[0]?.event).toMatchObject({
      id: eventIdOf('x', 'post', '78', 'published'),
      type: 'post',
    });
  });

  test('outbound likes, follows and DMs are skipped', () => {
    const n = read(
      xaa(
        'like.create',
        { liked_tweet_id: '5' },
        { filter: { user_id: '42', direction: 'outbound' } },
      ),
    );
    expect(n.events).toEqual([]);
    expect(read(xaa('follow.follow', {})).skipped).toEqual(['xaa: follow.follow is not counted']);
    expect(read(xaa('dm.received', {})).skipped).toEqual(['xaa: dm.received is not counted']);
  });
});
