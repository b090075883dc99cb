import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

describe('rate limiter', () => {
  it('spends a counted window down to zero, then waits for its reset, then has the whole limit again', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(() => now);
    limiter.update('x|u1', 'tweets', {
      kind: 'window',
      limit: 3,
      remaining: 2,
      resetAt: now + 60_000,
    });
    expect(limiter.reserve('x|u1', 'tweets')).toBe(0);
    expect(limiter.reserve('x|u1', 'tweets')).toBe(0);
    const wait = limiter.reserve('x|u1', 'tweets');
    expect(wait).toBeGreaterThanOrEqual(60_000);
    // Another endpoint and another user are not held back.
    expect(limiter.reserve('x|u1', 'users')).toBe(0);
    expect(limiter.reserve('x|u2', 'tweets')).toBe(0);
    now += wait;
    expect(limiter.headroom('x|u1').find((h) => h.endpoint === 'tweets')).toMatchObject({
      remaining: 3,
      limit: 3,
    });
    expect(limiter.reserve('x|u1', 'tweets')).toBe(0);
  });

  it('counts calls reserved while an answer was on its way against the window it reports', () => {
    const now = 5000;
    const limiter = new RateLimiter(() => now);
    limiter.update('a', 'e', { kind: 'window', limit: 10, remaining: 5, resetAt: 60_000 });
    for (let i = 0; i < 3; i++) limiter.reserve('a', 'e');
    // An answer sent before those three still says 4: the three stay counted.
    limiter.update('a', 'e', { kind: 'window', limit: 10, remaining: 4, resetAt: 60_000 });
    expect(limiter.headroom('a')[0]!.remaining).toBe(2);
    // A new window replaces the count.
    limiter.update('a', 'e', { kind: 'window', limit: 10, remaining: 9, resetAt: 120_000 });
    expect(limiter.headroom('a')[0]!.remaining).toBe(9);
  });

  it('keeps a documented limit itself as a sliding window when the platform sends no headers', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limit = { calls: 3, windowMs: 60_000 };
    for (const t of [0, 10_000, 20_000]) {
      now = t;
      expect(limiter.reserve('tiktok|app', 'list', limit)).toBe(0);
    }
    now = 30_000;
    // The oldest call leaves the window at 60 s: not sooner, as a fixed-rate refill would allow.
    expect(limiter.reserve('tiktok|app', 'list', limit)).toBe(30_000);
    now = 60_000;
    expect(limiter.reserve('tiktok|app', 'list', limit)).toBe(0);
    expect(limiter.reserve('tiktok|app', 'list', limit)).toBeGreaterThan(0);
  });

  it('holds an endpoint while it is blocked, and says until when', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    limiter.update('m|p', 'insights', { kind: 'blocked', until: 300_000, usagePercent: 100 });
    expect(limiter.reserve('m|p', 'insights')).toBe(300_000);
    expect(limiter.headroom('m|p')[0]).toMatchObject({ blockedUntil: 300_000, usagePercent: 100 });
    now = 300_000;
    expect(limiter.reserve('m|p', 'insights')).toBe(0);
    expect(limiter.headroom('m|p')[0]!.blockedUntil).toBeNull();
  });
});
