// How the platform client treats a Graph answer: judged by error code and subcode, never by HTTP
// status, which Meta leaves undocumented for throttles.
import type { ApiResponse, Verdict } from '../connector.ts';
import { describeGraphError, graphErrorOf, isThrottle } from './graph-errors.ts';
import { usageOf } from './graph-usage.ts';

const REVOKED_SUBCODES = new Set([458, 459, 460, 464, 467]);

export function judgeGraph(res: ApiResponse, now: number): Verdict {
  const error = graphErrorOf(res.body);
  if (res.status >= 200 && res.status < 300 && !error) return { kind: 'ok' };
  if (!error) {
    if (res.status === 429) return { kind: 'throttled', reason: 'HTTP 429' };
    if (res.status >= 500) return { kind: 'transient', reason: `HTTP ${res.status}` };
    return { kind: 'failed', reason: `HTTP ${res.status}` };
  }
  const reason = describeGraphError(error);
  if (error.code === 190 || error.code === 102) {
    const expired =
      error.error_subcode === 463 ||
      (error.error_subcode === undefined && /expired/i.test(error.message));
    if (expired) return { kind: 'expired', reason };
    // 458/459/460/464/467 and a bare "invalid token" alike need the user to connect again.
    const known = REVOKED_SUBCODES.has(error.error_subcode ?? 0);
    return { kind: 'revoked', reason: known ? reason : `${reason} (token no longer valid)` };
  }
  if (isThrottle(error.code)) {
    const regain = usageOf(res).regainMinutes;
    return { kind: 'throttled', reason, ...(regain > 0 && { until: now + regain * 60_000 }) };
  }
  if (error.code === 1 || error.code === 2 || error.is_transient === true || res.status >= 500) {
    return { kind: 'transient', reason };
  }
  return { kind: 'failed', reason };
}
