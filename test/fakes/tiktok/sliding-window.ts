// TikTok's documented limit: N requests per endpoint on a one-minute sliding window. A request
// is let through when fewer than N were let through in the window that ends at its arrival.

export interface WindowLimit {
  calls: number;
  windowMs: number;
}

export interface SlidingWindows {
  /** Counts the request and answers true, or answers false (counting nothing) when over. */
  take(key: string, now: number): boolean;
}

export function createSlidingWindows(limit: WindowLimit): SlidingWindows {
  const starts = new Map<string, number[]>();
  return {
    take(key, now) {
      let calls = starts.get(key);
      if (!calls) starts.set(key, (calls = []));
      while (calls.length > 0 && calls[0]! <= now - limit.windowMs) calls.shift();
      if (calls.length >= limit.calls) return false;
      calls.push(now);
      return true;
    },
  };
}
