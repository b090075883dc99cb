// What the three webhook receivers share: each verifies a delivery on its raw bytes, then turns
// its JSON into draft events per platform account; the handler (webhooks.handler.ts) resolves
// the accounts, files the events under each connection and puts them on the bus.
import { createHash } from 'node:crypto';
import type { EventInput } from '../../schema/event-envelope.ts';
import type { SocialPlatform } from '../connectors/ids.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The kinds of event a webhook carries: comments and mentions, counter deltas, posts. */
export type WebhookEvent = Extract<EventInput, { type: 'comment' | 'engagement' | 'post' }>;

/** An event before it is filed under a Loupe account: one platform account may have several. */
export type DraftEvent = DistributiveOmit<WebhookEvent, 'accountId'>;

export interface AccountRef {
  platform: SocialPlatform;
  platformAccountId: string;
}

/** What one delivery says, once read. */
export interface Normalised {
  events: (AccountRef & { event: DraftEvent })[];
  /** Grants the platform says are gone. */
  revoked: (AccountRef & { reason: string })[];
  /** Accounts with news a poll should fetch, because the delivery does not carry it. */
  activity: AccountRef[];
  /** What was left out, one line each, for the log and the answer's count. */
  skipped: string[];
}

export function emptyNormalised(): Normalised {
  return { events: [], revoked: [], activity: [], skipped: [] };
}

/** A verdict on a delivery's signature; 401 when there is none, 403 when it is wrong or stale. */
export type Verification = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** A delivery's body read as JSON: the shape the receiver expects, or why it is not. */
export type Reading = { ok: true; normalised: Normalised } | { ok: false; reason: string };

/** An epoch-seconds instant as ISO text; Meta and TikTok send seconds, a few Meta fields ms. */
export function isoFromEpoch(value: number): string {
  return new Date(value > 1e12 ? value : value * 1000).toISOString();
}

/** The answer to a platform's GET check (Meta's challenge, X's CRC). */
export interface CheckAnswer {
  status: number;
  contentType: 'text/plain' | 'application/json';
  body: string;
}

/** A platform id as text: Graph ids come as strings, a few fields as numbers. */
export function nativeIdOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/** An instant given as epoch seconds, epoch ms or date text, as ISO; undefined when unreadable. */
export function instantOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return isoFromEpoch(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return isoFromEpoch(Number(value));
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return undefined;
}

/** A short digest of content, for ids of edits that carry no id of their own. */
export function contentDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
