// Client-side limits per allowance (a user's or the app's) and endpoint, so calls stay inside
// what the platform allows instead of learning it from 429s. Fed by the platforms' own headers
// (X's counted windows, Meta's usage percentages); where a platform sends none (TikTok), by the
// documented limit kept here as a sliding window.
import type { LimitReading } from './connector.ts';

/** One endpoint's state, as the connection query shows it. */
export interface Headroom {
  endpoint: string;
  /** Calls left in the current window, when known. */
  remaining: number | null;
  limit: number | null;
  /** When the window's allowance comes back (epoch ms), when known. */
  resetAt: number | null;
  /** Nothing may be called on the endpoint before this (epoch ms). */
  blockedUntil: number | null;
  /** Meta's share of the allowance used, 0–100. */
  usagePercent: number | null;
}

interface Bucket {
  limit?: number;
  remaining?: number;
  resetAt?: number;
  blockedUntil?: number;
  usagePercent?: number;
  /** Start times of the calls in the sliding window, oldest first. */
  calls?: number[];
}

export interface ClientLimit {
  calls: number;
  windowMs: number;
}

/** Waited for after a window's reset, for clocks a little apart. */
const RESET_MARGIN_MS = 1000;

export class RateLimiter {
  /** allowance (platform + user or app) → endpoint → bucket */
  private readonly allowances = new Map<string, Map<string, Bucket>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Takes one call on the endpoint if it may go now and answers 0; otherwise answers how many
   * milliseconds to wait before asking again, and takes nothing.
   */
  reserve(allowance: string, endpoint: string, clientLimit?: ClientLimit): number {
    const bucket = this.bucket(allowance, endpoint);
    const now = this.now();
    if (bucket.blockedUntil !== undefined) {
      if (bucket.blockedUntil > now) return bucket.blockedUntil - now;
      bucket.blockedUntil = undefined;
    }
    if (bucket.resetAt !== undefined && bucket.resetAt <= now) {
      bucket.remaining = bucket.limit;
      bucket.resetAt = undefined;
    }
    if (bucket.remaining !== undefined && bucket.remaining <= 0) {
      // A window spent with no reset known: wait a minute and let the next answer say more.
      return (bucket.resetAt ?? now + 60_000) - now + RESET_MARGIN_MS;
    }
    if (clientLimit) {
      const calls = (bucket.calls ??= []);
      while (calls.length > 0 && calls[0]! <= now - clientLimit.windowMs) calls.shift();
      if (calls.length >= clientLimit.calls) return calls[0]! + clientLimit.windowMs - now;
      calls.push(now);
    }
    if (bucket.remaining !== undefined) bucket.remaining -= 1;
    return 0;
  }

  /** Learns from an answer. Calls reserved meanwhile stay counted against a window reported again. */
  update(allowance: string, endpoint: string, reading: LimitReading): void {
    const bucket = this.bucket(allowance, endpoint);
    switch (reading.kind) {
      case 'window': {
        const sameWindow = bucket.resetAt !== undefined && reading.resetAt <= bucket.resetAt;
        bucket.limit = reading.limit;
        bucket.remaining =
          sameWindow && bucket.remaining !== undefined
            ? Math.min(bucket.remaining, reading.remaining)
            : reading.remaining;
        bucket.resetAt = reading.resetAt;
        break;
      }
      case 'blocked':
        bucket.blockedUntil = Math.max(bucket.blockedUntil ?? 0, reading.until);
        if (reading.usagePercent !== undefined) bucket.usagePercent = reading.usagePercent;
        break;
      case 'usage':
        bucket.usagePercent = reading.usagePercent;
        break;
    }
  }

  /** Every endpoint of an allowance that has been called. */
  headroom(allowance: string): Headroom[] {
    const endpoints = this.allowances.get(allowance);
    if (!endpoints) return [];
    const now = this.now();
    return [...endpoints].map(([endpoint, b]) => {
      const reset = b.resetAt !== undefined && b.resetAt <= now;
      return {
        endpoint,
        remaining: reset ? (b.limit ?? null) : (b.remaining ?? null),
        limit: b.limit ?? null,
        resetAt: reset ? null : (b.resetAt ?? null),
        blockedUntil: b.blockedUntil !== undefined && b.blockedUntil > now ? b.blockedUntil : null,
        usagePercent: b.usagePercent ?? null,
      };
    });
  }

  private bucket(allowance: string, endpoint: string): Bucket {
    let endpoints = this.allowances.get(allowance);
    if (!endpoints) this.allowances.set(allowance, (endpoints = new Map<string, Bucket>()));
    let bucket = endpoints.get(endpoint);
    if (!bucket) endpoints.set(endpoint, (bucket = {}));
    return bucket;
  }
}
