// Meta's webhooks (PLATFORMS.md A.11): the GET subscription check, the `X-Hub-Signature-256`
// signature, and `page` / `instagram` deliveries read into events. Entry ids are the platform
// accounts: a Page id for `page`, an Instagram user id for `instagram`.
import { commentIdOf, eventIdOf, postIdOf, type SocialPlatform } from '../connectors/ids.ts';
import { readFeedChange } from './facebook-feed.ts';
import {
  emptyNormalised,
  instantOf,
  isRecord,
  nativeIdOf,
  type CheckAnswer,
  type DraftEvent,
  type Normalised,
  type Reading,
  type Verification,
} from './receiver.ts';
import { metaSignature, safeEqual } from './signature.ts';

export const META_SIGNATURE_HEADER = 'x-hub-signature-256';
/** Meta sends at most this many changes in one delivery. */
export const META_MAX_CHANGES = 1000;

const OBJECTS: Record<string, SocialPlatform> = { page: 'facebook', instagram: 'instagram' };

/** `GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`: echo the challenge if ours. */
export function answerMetaCheck(query: URLSearchParams, verifyToken: string): CheckAnswer {
  const json = (status: number, error: string): CheckAnswer => ({
    status,
    contentType: 'application/json',
    body: JSON.stringify({ error }),
  });
  const challenge = query.get('hub.challenge');
  if (query.get('hub.mode') !== 'subscribe') return json(400, 'hub.mode must be subscribe');
  if (!challenge || challenge.length > 256) return json(400, 'hub.challenge is missing or long');
  if (!safeEqual(query.get('hub.verify_token') ?? '', verifyToken)) {
    return json(403, 'hub.verify_token does not match');
  }
  return { status: 200, contentType: 'text/plain', body: challenge };
}

export function verifyMetaDelivery(
  header: string | undefined,
  raw: Buffer,
  appSecret: string,
): Verification {
  if (!header) return { ok: false, status: 401, reason: `missing ${META_SIGNATURE_HEADER} header` };
  if (!safeEqual(header.trim().toLowerCase(), metaSignature(appSecret, raw))) {
    return { ok: false, status: 403, reason: `${META_SIGNATURE_HEADER} does not match the body` };
  }
  return { ok: true };
}

/** A verified Meta delivery as events; `receivedAt` stands in for an entry without a time. */
export function readMetaDelivery(json: unknown, receivedAt: number): Reading {
  if (!isRecord(json) || typeof json['object'] !== 'string' || !Array.isArray(json['entry'])) {
    return { ok: false, reason: 'body must be {"object": string, "entry": [...]}' };
  }
  const out = emptyNormalised();
  const platform = OBJECTS[json['object']];
  if (!platform) {
    out.skipped.push(`object "${json['object']}" is not read`);
    return { ok: true, normalised: out };
  }
  let changes = 0;
  for (const entry of json['entry'] as unknown[]) {
    changes += readEntry(platform, entry, receivedAt, out);
    if (changes > META_MAX_CHANGES) {
      return { ok: false, reason: `more than ${META_MAX_CHANGES} changes in one delivery` };
    }
  }
  return { ok: true, normalised: out };
}

/** Adds what one entry says to `out`; returns how many changes it held. */
function readEntry(
  platform: SocialPlatform,
  entry: unknown,
  receivedAt: number,
  out: Normalised,
): number {
  const accountId = isRecord(entry) ? nativeIdOf(entry['id']) : undefined;
  if (!isRecord(entry) || !accountId) {
    out.skipped.push('entry without an id');
    return 1;
  }
  const ref = { platform, platformAccountId: accountId };
  const sentAt = instantOf(entry['time']) ?? new Date(receivedAt).toISOString();
  // Direct messages are conversations, not analytics.
  if (Array.isArray(entry['messaging'])) out.skipped.push('messaging events are not read');
  // Without "Include Values" Meta names the fields only: a poll must read what changed.
  if (Array.isArray(entry['changed_fields']) && !Array.isArray(entry['changes'])) {
    out.activity.push(ref);
    return entry['changed_fields'].length;
  }
  // UNVERIFIED doc example: `field` and `value` directly on the entry; read it as one change.
  const changes: unknown[] = Array.isArray(entry['changes'])
    ? entry['changes']
    : typeof entry['field'] === 'string'
      ? [{ field: entry['field'], value: entry['value'] }]
      : [];
  for (const change of changes) {
    const field = isRecord(change) && typeof change['field'] === 'string' ? change['field'] : '';
    const value = isRecord(change) ? change['value'] : undefined;
    const reading = readChange(platform, accountId, field, value, sentAt);
    if ('skipped' in reading) out.skipped.push(reading.skipped);
    else for (const event of reading.events) out.events.push({ ...ref, event });
    if ('activity' in reading && reading.activity) out.activity.push(ref);
  }
  return changes.length;
}

type ChangeReading = { events: DraftEvent[] } | { skipped: string; activity?: boolean };

function readChange(
  platform: SocialPlatform,
  accountId: string,
  field: string,
  value: unknown,
  sentAt: string,
): ChangeReading {
  if (platform === 'facebook') {
    return field === 'feed'
      ? readFeedChange(accountId, value, sentAt)
      : { skipped: `page field "${field}" is not read` };
  }
  if (field === 'comments' || field === 'live_comments') return instagramComment(value, sentAt);
  if (field === 'mentions') return instagramMention(value, sentAt);
  return { skipped: `instagram field "${field}" is not read` };
}

/** `{id, from{id,username}, text, media{id}}`; the Facebook Login variant names `comment_id`. */
function instagramComment(value: unknown, sentAt: string): ChangeReading {
  if (!isRecord(value)) return { skipped: 'comments: change without a value object' };
  const nativeId = nativeIdOf(value['id']) ?? nativeIdOf(value['comment_id']);
  const text = typeof value['text'] === 'string' ? value['text'] : '';
  if (!nativeId) return { skipped: 'comments: change without a comment id' };
  if (text.length === 0) return { skipped: `comments: ${nativeId} without text` };
  const media = isRecord(value['media']) ? nativeIdOf(value['media']['id']) : undefined;
  const from = isRecord(value['from']) ? value['from'] : {};
  const event: DraftEvent = {
    id: eventIdOf('instagram', 'comment', nativeId),
    type: 'comment',
    kind: 'comment',
    platform: 'instagram',
    // The payload has no time of its own; when Meta sent it is the nearest there is.
    occurredAt: sentAt,
    commentId: commentIdOf('instagram', nativeId),
    text,
  };
  if (media) event.postId = postIdOf('instagram', media);
  if (typeof from['username'] === 'string') event.authorHandle = from['username'].slice(0, 256);
  return { events: [event] };
}

/**
 * `{media_id}` or `{comment_id, media_id}`: the documented payload names the mention but carries
 * no text, and a comment event needs text. Such a mention is left to a poll (onActivity), which
 * can read it; a payload that does carry `text` becomes a mention event.
 */
function instagramMention(value: unknown, sentAt: string): ChangeReading {
  if (!isRecord(value)) return { skipped: 'mentions: change without a value object' };
  const nativeId = nativeIdOf(value['comment_id']) ?? nativeIdOf(value['media_id']);
  if (!nativeId) return { skipped: 'mentions: change without media_id or comment_id' };
  const text = typeof value['text'] === 'string' ? value['text'] : '';
  if (text.length === 0) {
    return { skipped: `mentions: ${nativeId} without text, left to a poll`, activity: true };
  }
  // The mentioning media belongs to another account, so it is not one of this account's posts.
  return {
    events: [
      {
        id: eventIdOf('instagram', 'mention', nativeId),
        type: 'comment',
        kind: 'mention',
        platform: 'instagram',
        occurredAt: sentAt,
        commentId: commentIdOf('instagram', nativeId),
        text,
      },
    ],
  };
}
