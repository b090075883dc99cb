// X's per-user limits (PLATFORMS.md B.3): a fixed window per user and endpoint, opened by the
// window's first call, counted down in `x-rate-limit-remaining`, reset at `x-rate-limit-reset`.

/** The documented per-user limits per 15 minutes. */
export const DOCUMENTED_USER_LIMITS: Record<string, number> = {
  'GET /2/users/:id/tweets': 900,
  'GET /2/users/:id': 900,
};

export interface LimitSettings {
  windowMs: number;
  /** Calls per window, by endpoint name. */
  limits: Record<string, number>;
}

export interface WindowState {
  limit: number;
  remaining: number;
  /** When the window ends (epoch ms). */
  resetAt: number;
}

export interface LimitOutcome extends WindowState {
  allowed: boolean;
  /** Identifies the window, for counting 429s per window. */
  windowKey: string;
}

interface Window {
  start: number;
  used: number;
}

export interface ThrottleStats {
  /** Every 429 answered for a spent window. */
  tooManyRequests: number;
  /** 429s after the first in their window: what a client that reads the headers never gets. */
  beyondFirstPerWindow: number;
  /** 429s by window (`user|endpoint|start`). */
  perWindow: Record<string, number>;
}

export class FixedWindows {
  private readonly windows = new Map<string, Window>();
  private readonly perWindow = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly settings: LimitSettings,
  ) {}

  limitOf(endpoint: string): number {
    return this.settings.limits[endpoint] ?? 900;
  }

  /** Counts one call on the user's window, or refuses it when the window is spent. */
  take(user: string, endpoint: string): LimitOutcome {
    const window = this.current(user, endpoint);
    const limit = this.limitOf(endpoint);
    const resetAt = window.start + this.settings.windowMs;
    const windowKey = `${user}|${endpoint}|${window.start}`;
    if (window.used >= limit) {
      this.perWindow.set(windowKey, (this.perWindow.get(windowKey) ?? 0) + 1);
      return { allowed: false, limit, remaining: 0, resetAt, windowKey };
    }
    window.used += 1;
    return { allowed: true, limit, remaining: limit - window.used, resetAt, windowKey };
  }

  /** Spends the user's window so that it resets `resetInMs` from now (a scripted 429). */
  exhaust(user: string, endpoint: string, resetInMs: number): void {
    const start = this.now() + resetInMs - this.settings.windowMs;
    this.windows.set(`${user}|${endpoint}`, { start, used: this.limitOf(endpoint) });
  }

  stats(): ThrottleStats {
    let total = 0;
    let beyond = 0;
    for (const count of this.perWindow.values()) {
      total += count;
      beyond += Math.max(0, count - 1);
    }
    return {
      tooManyRequests: total,
      beyondFirstPerWindow: beyond,
      perWindow: Object.fromEntries(this.perWindow),
    };
  }

  private current(user: string, endpoint: string): Window {
    const key = `${user}|${endpoint}`;
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now >= window.start + this.settings.windowMs) {
      window = { start: now, used: 0 };
      this.windows.set(key, window);
    }
    return window;
  }
}

/** The three headers X sends on every answer; the reset is in epoch seconds, rounded up. */
export function limitHeaders(state: WindowState): Record<string, string> {
  return {
    'x-rate-limit-limit': String(state.limit),
    'x-rate-limit-remaining': String(state.remaining),
    'x-rate-limit-reset': String(Math.ceil(state.resetAt / 1000)),
  };
}
