// How Meta deliveries read: Instagram comments (in `changes[]` and on the entry itself), mentions,
// and a Page's feed (comments, reactions, posts; the feed payload is UNVERIFIED, see
// facebook-feed.ts). Every event read must pass the envelope.
import { describe, expect, test } from 'vitest';
import { eventInputSchema } from '../../schema/event-envelope.ts';
import { commentIdOf, eventIdOf, postIdOf } from '../connectors/ids.ts';
import { META_MAX_CHANGES, readMetaDelivery } from './meta.webhook.ts';
import type { Normalised } from './receiver.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const T = NOW / 1000 - 60;

function read(json: unknown): Normalised {
  const reading = readMetaDelivery(json, NOW);
  if (!reading.ok) throw new Error(reading.reason);
  for (const { event } of reading.normalised.events) {
    expect(eventInputSchema.safeParse({ ...event, accountId: 'a' }).success).toBe(true);
  }
  return reading.normalised;
}

const page = (...values: unknown[]) => ({
  object: 'page',
  entry: [{ id: 'page-1', time: T, changes: values.map((value) => ({ field: 'feed', value })) }],
});

describe('Instagram', () => {
  test('field and value directly on the entry read as one change', () => {
    const n = read({
      object: 'instagram',
      entry: [
        {
          id: 'ig-1',
          time: T,
          field: 'live_comments',
          value: { id: 'lc-1', from: { username: 'viewer' }, text: 'hi', media: { id: 'live-1' } },
        },
      ],
    });
    expect(n.events.map((e) => [e.platform, e.platformAccountId])).toEqual([['instagram', 'ig-1']]);
    expect(n.events[0]?.event).toMatchObject({
      id: eventIdOf('instagram', 'comment', 'lc-1'),
      commentId: commentIdOf('instagram', 'lc-1'),
      postId: postIdOf('instagram', 'live-1'),
      authorHandle: 'viewer',
    });
  });

  test('a mention with text is a mention event; without, a poll is asked', () => {
    const n = read({
      object: 'instagram',
      entry: [
        {
          id: 'ig-1',
          time: T,
          changes: [
            { field: 'mentions', value: { comment_id: 'mc-1', media_id: 'x', text: '@us nice' } },
            { field: 'mentions', value: { media_id: 'mm-2' } },
            { field: 'comments', value: { id: 'c-2', media: { id: 'm' } } },
          ],
        },
      ],
    });
    expect(n.events.map((e) => e.event)).toEqual([
      expect.objectContaining({ kind: 'mention', commentId: commentIdOf('instagram', 'mc-1') }),
    ]);
    expect(n.events[0]?.event).not.toHaveProperty('postId');
    expect(n.activity).toEqual([{ platform: 'instagram', platformAccountId: 'ig-1' }]);
    expect(n.skipped).toEqual([
      'mentions: mm-2 without text, left to a poll',
      'comments: c-2 without text',
    ]);
  });

  test('the envelope must be {object, entry[]}; over 1000 changes is refused', () => {
    expect(readMetaDelivery({ entry: [] }, NOW).ok).toBe(false);
    const changes = Array.from({ length: META_MAX_CHANGES + 1 }, () => ({ field: 'x', value: {} }));
    const reading = readMetaDelivery({ object: 'instagram', entry: [{ id: 'i', changes }] }, NOW);
    expect(reading).toEqual({ ok: false, reason: 'more than 1000 changes in one delivery' });
    expect(read({ object: 'user', entry: [{ id: 'u' }] }).skipped).toEqual([
      'object "user" is not read',
    ]);
  });

  test('changed_fields without values asks for a poll', () => {
    const n = read({
      object: 'instagram',
      entry: [{ id: 'ig-1', time: T, changed_fields: ['comments'] }],
    });
    expect(n.activity).toEqual([{ platform: 'instagram', platformAccountId: 'ig-1' }]);
    expect(n.events).toEqual([]);
  });
});

describe('Facebook Page feed', () => {
  test('comments, reactions both ways and the Page’s own posts', () => {
    const n = read(
      page(
        {
          item: 'comment',
          verb: 'add',
          comment_id: '1_2',
          post_id: 'page-1_10',
          from: { id: '5', name: 'Ada' },
          message: 'great',
          created_time: T - 10,
        },
        {
          item: 'reaction',
          verb: 'add',
          post_id: 'page-1_10',
          from: { id: '5' },
          reaction_type: 'love',
          created_time: T - 5,
        },
        {
          item: 'reaction',
          verb: 'remove',
          post_id: 'page-1_10',
          from: { id: '5' },
          created_time: T - 1,
        },
        {
          item: 'photo',
          verb: 'add',
          post_id: 'page-1_11',
          from: { id: 'page-1' },
          message: 'new',
          created_time: T - 20,
          published: 1,
        },
        { item: 'comment', verb: 'remove', comment_id: '1_3', post_id: 'page-1_10' },
      ),
    );
    const events = n.events.map((e) => e.event);
    expect(events.map((e) => [e.type, 'value' in e ? e.value : undefined])).toEqual([
      ['comment', undefined],
      ['engagement', 1],
      ['engagement', -1],
      ['post', undefined],
    ]);
    expect(events[0]).toMatchObject({
      id: eventIdOf('facebook', 'comment', '1_2'),
      postId: postIdOf('facebook', 'page-1_10'),
      authorHandle: 'Ada',
      occurredAt: new Date((T - 10) * 1000).toISOString(),
    });
    expect(events[1]).toMatchObject({
      metric: 'likes',
      mode: 'delta',
      postId: postIdOf('facebook', 'page-1_10'),
    });
    expect(events[1]?.id).not.toBe(events[2]?.id);
    expect(events[3]).toMatchObject({ action: 'published', mediaType: 'image', content: 'new' });
    expect(n.skipped).toEqual(['feed: comment 1_3 removed (not recorded)']);
  });

  test('an edit is a new event of the same comment; the same edit twice has one id', () => {
    const edit = (message: string) => ({
      item: 'comment',
      verb: 'edited',
      comment_id: '1_2',
      post_id: 'p',
      message,
    });
    const ids = read(page(edit('v2'), edit('v2'), edit('v3'))).events.map((e) => e.event.id);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]).not.toBe(ids[2]);
    expect(ids[0]).not.toBe(eventIdOf('facebook', 'comment', '1_2'));
  });

  test('a visitor post with text is a mention; reactions on comments are skipped', () => {
    const n = read(
      page(
        {
          item: 'status',
          verb: 'add',
          post_id: 'page-1_12',
          from: { id: '8', name: 'Bo' },
          message: 'hello page',
        },
        { item: 'reaction', verb: 'add', post_id: 'page-1_10', comment_id: '1_2' },
      ),
    );
    expect(n.events.map((e) => e.event)).toEqual([
      expect.objectContaining({ type: 'comment', kind: 'mention', authorHandle: 'Bo' }),
    ]);
    expect(n.skipped).toEqual(['feed: reaction on a comment']);
  });
});
