// The ids connectors and webhook receivers give what they read, so the same thing read twice (a
// re-poll, an overlapping page, a retried delivery) carries the same id and the pipeline keeps one.
import { createHash } from 'node:crypto';
import type { Platform } from '../../schema/event-envelope.ts';

export type SocialPlatform = Exclude<Platform, 'app'>;

/** Loupe's id of a platform's post: platform ids are unique only within their platform. */
export function postIdOf(platform: SocialPlatform, nativeId: string): string {
  return `${platform}:${nativeId}`;
}

/** Loupe's id of a platform's comment (or mention), for the same reason. */
export function commentIdOf(platform: SocialPlatform, nativeId: string): string {
  return `${platform}:${nativeId}`;
}

/**
 * A deterministic event id from its parts, e.g. `eventIdOf('x', 'metric', postId, 'likes', slot)`.
 * Ids longer than the envelope allows keep a readable head and a digest of the whole.
 */
export function eventIdOf(platform: SocialPlatform, ...parts: (string | number)[]): string {
  const id = [platform, ...parts].join(':');
  if (id.length <= 128) return id;
  const digest = createHash('sha256').update(id).digest('base64url').slice(0, 32);
  return `${id.slice(0, 95)}~${digest}`;
}
