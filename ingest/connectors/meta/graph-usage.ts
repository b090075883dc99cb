// Meta's usage headers (`x-app-usage`, `x-business-use-case-usage`) read as limits: Graph sends
// no remaining-calls count, only percentages of an allowance and a regain time once it is spent.
import { z } from 'zod';
import type { ApiResponse, LimitReading } from '../connector.ts';

const usageEntry = z
  .object({
    call_count: z.number().optional(),
    total_time: z.number().optional(),
    total_cputime: z.number().optional(),
    estimated_time_to_regain_access: z.number().optional(),
  })
  .loose();

function header(res: ApiResponse, name: string): unknown {
  const raw = res.headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The highest usage percentage and regain time the answer's usage headers carry. */
export function usageOf(res: ApiResponse): { percent?: number; regainMinutes: number } {
  const entries: z.infer<typeof usageEntry>[] = [];
  const app = usageEntry.safeParse(header(res, 'x-app-usage'));
  if (app.success) entries.push(app.data);
  const buc = z
    .record(z.string(), z.array(usageEntry))
    .safeParse(header(res, 'x-business-use-case-usage'));
  if (buc.success) for (const list of Object.values(buc.data)) entries.push(...list);
  const percents = entries.flatMap((e) => [e.call_count, e.total_time, e.total_cputime]);
  const known = percents.filter((p): p is number => p !== undefined);
  const regains = entries.map((e) => e.estimated_time_to_regain_access ?? 0);
  return {
    ...(known.length > 0 && { percent: Math.max(...known) }),
    regainMinutes: Math.max(0, ...regains),
  };
}

/** Usage ≥ 95 % (or a regain time) stops calls: Meta extends a block for every call made in it. */
export function readGraphLimits(
  res: ApiResponse,
  now: number,
  pauseMs: number,
): LimitReading | null {
  const { percent, regainMinutes } = usageOf(res);
  if (regainMinutes > 0) {
    return { kind: 'blocked', until: now + regainMinutes * 60_000, usagePercent: percent ?? 100 };
  }
  if (percent === undefined) return null;
  if (percent >= 95) return { kind: 'blocked', until: now + pauseMs, usagePercent: percent };
  return { kind: 'usage', usagePercent: percent };
}
