// Key names in the live store, shared by the speed layer (writer) and the metrics subgraph (reader).
// Ids may hold any character, so each part is escaped before the parts are joined with '|'.

export const HOUR_MS = 3_600_000;
/** Live counters cover this window; older hours are answered from the rollups alone. */
export const LIVE_TTL_SECONDS = 48 * 3600;

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** '%' → '%25', '|' → '%7C', a lone surrogate → '%uXXXX' (in UTF-8, so in Redis, all are U+FFFD). */
function escapePart(part: string): string {
  return part.replace(/[%|\uD800-\uDFFF]/gu, (c) =>
    c === '%' ? '%25' : c === '|' ? '%7C' : `%u${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function joinKey(kind: string, ...parts: (string | number)[]): string {
  return [kind, ...parts.map((part) => escapePart(String(part)))].join('|');
}

/** Changes of a metric in one hour, for the account (postId '') or one post. */
export function counterKey(
  orgId: string,
  accountId: string,
  postId: string,
  metric: string,
  hourMs: number,
): string {
  return joinKey('c', orgId, accountId, postId, metric, hourMs);
}

/** Latest lifetime total seen for a series, as `${eventTimeMs}:${value}`. */
export function levelKey(orgId: string, accountId: string, postId: string, metric: string): string {
  return joinKey('l', orgId, accountId, postId, metric);
}

/** App users seen in one hour, per account. */
export function usersKey(orgId: string, accountId: string, hourMs: number): string {
  return joinKey('u', orgId, accountId, hourMs);
}

/** Live product-analytics windows of an app: 5 seconds for its events and users. */
export const APP_WINDOW_MS = 5_000;
/** Users per event name are sketched per minute: a live funnel merges an hour of them. */
export const APP_MINUTE_MS = 60_000;

/** An app's events (`e`, a counter) or users (`u`, a sketch) in one 5-second window. */
export function appWindowKey(
  kind: 'events' | 'users',
  orgId: string,
  appId: string,
  windowMs: number,
): string {
  return joinKey(kind === 'events' ? 'ae' : 'au', orgId, appId, windowMs);
}

/** The users who sent one event name in one minute, as a sketch. */
export function appEventUsersKey(
  orgId: string,
  appId: string,
  event: string,
  minuteMs: number,
): string {
  return joinKey('an', orgId, appId, event, minuteMs);
}

/** Write marks outlive every cached answer (an hour at most) by far. */
export const WRITE_MARK_TTL_SECONDS = 7 * 86_400;

/**
 * Writes of an account's events into the OLAP store, as a counter: `any` counts every write,
 * `late` the writes holding an event from before the current quarter-hour. Cached answers over
 * sealed ranges are checked against them (subgraphs/metrics/sealed-reads.ts).
 */
export function writeMarkKey(kind: 'any' | 'late', orgId: string, accountId: string): string {
  return joinKey(kind === 'any' ? 'wa' : 'wl', orgId, accountId);
}

/**
 * What a sliding-window limit of the gateway took in one window: `budget|<org>` counts cost
 * points, `rate|<key hash>` requests (gateway/sliding-window.ts).
 */
export function demandKey(limit: string, id: string, windowStart: number): string {
  return joinKey('dm', limit, id, windowStart);
}

/** Every tick of an organisation is published here; subscribers filter by account. */
export function ticksChannel(orgId: string): string {
  return joinKey('ticks', orgId);
}

export interface Tick {
  accountId: string;
  metric: string;
  delta: number;
  hourValue: number;
  /** Event time (ms) of the newest event behind the tick. */
  at: number;
}
