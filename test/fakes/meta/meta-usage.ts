// Meta's rolling-window allowances (A.8): per app+user for Instagram, per Page for Pages, and the
// app's own; each call (each id of a multi-id call) counts, calls made while blocked count too
// ("more calls extend the block"), and the usage headers report percentages of the allowance.

/** Calls in a rolling window, kept in slots so thousands of accounts stay cheap. */
export class RollingWindow {
  private readonly slotMs: number;
  /** [slot index, calls] oldest first. */
  private readonly slots: [number, number][] = [];

  constructor(
    readonly windowMs: number,
    slotsPerWindow = 60,
  ) {
    this.slotMs = Math.max(1, Math.floor(windowMs / slotsPerWindow));
  }

  add(now: number, calls: number): void {
    const slot = Math.floor(now / this.slotMs);
    const last = this.slots[this.slots.length - 1];
    if (last && last[0] === slot) last[1] += calls;
    else this.slots.push([slot, calls]);
  }

  count(now: number): number {
    this.drop(now);
    return this.slots.reduce((sum, [, calls]) => sum + calls, 0);
  }

  /** How long until fewer than `allowance` calls are left in the window. */
  msUntilBelow(now: number, allowance: number): number {
    let count = this.count(now);
    for (const [slot, calls] of this.slots) {
      if (count < allowance) break;
      count -= calls;
      if (count < allowance) return Math.max(1, slot * this.slotMs + this.windowMs - now);
    }
    return 0;
  }

  private drop(now: number): void {
    const oldest = Math.floor((now - this.windowMs) / this.slotMs);
    while (this.slots.length > 0 && this.slots[0]![0] <= oldest) this.slots.shift();
  }
}

export interface Allowance {
  windowMs: number;
  calls: number;
}

export interface UsageReading {
  /** Whole percentages, as the headers carry them, capped at 100. */
  callCount: number;
  totalTime: number;
  totalCputime: number;
  /** Minutes; 0 unless blocked. */
  regainMinutes: number;
  blocked: boolean;
}

/** Counts a call against an allowance and reads the usage after it. */
export function spend(
  window: RollingWindow,
  allowance: Allowance,
  now: number,
  calls: number,
  exactRegain: boolean,
): UsageReading {
  window.add(now, calls);
  const count = window.count(now);
  const percent = Math.min(100, Math.floor((100 * count) / allowance.calls));
  const blocked = count > allowance.calls;
  const waitMs = blocked ? window.msUntilBelow(now, allowance.calls) : 0;
  const minutes = exactRegain ? waitMs / 60_000 : Math.ceil(waitMs / 60_000);
  return {
    callCount: blocked ? 100 : percent,
    totalTime: Math.floor(percent * 0.6),
    totalCputime: Math.floor(percent * 0.5),
    regainMinutes: blocked ? Math.max(minutes, exactRegain ? 0.001 : 1) : 0,
    blocked,
  };
}

export function appUsageHeader(u: UsageReading): string {
  return JSON.stringify({
    call_count: u.callCount,
    total_time: u.totalTime,
    total_cputime: u.totalCputime,
  });
}

export function bucUsageHeader(objectId: string, type: 'instagram' | 'pages', u: UsageReading) {
  return JSON.stringify({
    [objectId]: [
      {
        type,
        call_count: u.callCount,
        total_cputime: u.totalCputime,
        total_time: u.totalTime,
        estimated_time_to_regain_access: u.regainMinutes,
      },
    ],
  });
}
