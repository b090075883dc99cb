// The Graph verdicts and limit readings (meta/graph-verdict.ts, meta/graph-usage.ts, through the
// Facebook protocol): by error code, never by HTTP status, and never with a token in a reason.
import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../connector.ts';
import { createFacebookProtocol } from './facebook.protocol.ts';

const protocol = createFacebookProtocol({
  baseUrl: 'http://127.0.0.1:1',
  appId: '1',
  appSecret: 's',
  usagePauseMs: 1000,
});
const NOW = 1_700_000_000_000;
const error = (status: number, e: Record<string, unknown>, headers = {}): ApiResponse => ({
  status,
  headers,
  body: { error: { type: 'OAuthException', fbtrace_id: 'x', message: '', ...e } },
});

describe('Graph verdicts', () => {
  it.each([
    [{ code: 190, error_subcode: 463 }, 'expired'],
    [{ code: 190, message: 'Session has expired on Tuesday' }, 'expired'],
    [{ code: 190, error_subcode: 460 }, 'revoked'],
    [{ code: 190, error_subcode: 458 }, 'revoked'],
    [{ code: 190, error_subcode: 467 }, 'revoked'],
    [{ code: 190, message: 'Invalid OAuth access token' }, 'revoked'],
    [{ code: 4 }, 'throttled'],
    [{ code: 17 }, 'throttled'],
    [{ code: 32 }, 'throttled'],
    [{ code: 613 }, 'throttled'],
    [{ code: 80001 }, 'throttled'],
    [{ code: 80002 }, 'throttled'],
    [{ code: 1 }, 'transient'],
    [{ code: 2 }, 'transient'],
    [{ code: 10 }, 'failed'],
    [{ code: 200 }, 'failed'],
    [{ code: 299 }, 'failed'],
    [{ code: 100 }, 'failed'],
  ])('%j → %s', (e, kind) => {
    // The status of a throttle is undocumented: 400 and 403 must read the same.
    for (const status of [400, 403]) expect(protocol.judge(error(status, e), NOW).kind).toBe(kind);
  });

  it('a throttle waits for the announced regain time, in minutes', () => {
    const headers = {
      'x-business-use-case-usage': JSON.stringify({
        '42': [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 7 }],
      }),
    };
    const verdict = protocol.judge(error(403, { code: 80001 }, headers), NOW);
    expect(verdict).toMatchObject({ kind: 'throttled', until: NOW + 7 * 60_000 });
    expect(protocol.readLimits(error(403, { code: 80001 }, headers), NOW)).toEqual({
      kind: 'blocked',
      until: NOW + 7 * 60_000,
      usagePercent: 100,
    });
  });

  it('5xx without an envelope is transient; a token in a message never reaches the reason', () => {
    expect(protocol.judge({ status: 502, headers: {}, body: '<html>' }, NOW).kind).toBe(
      'transient',
    );
    const token = 'EAAGm0PX4ZCpsBA1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuV';
    const verdict = protocol.judge(
      error(400, { code: 100, message: `bad access_token=${token} or ${token}` }),
      NOW,
    );
    expect(verdict.kind).toBe('failed');
    expect('reason' in verdict && verdict.reason).not.toContain(token);
  });
});

describe('Graph usage headers', () => {
  const usage = (appPct: number, bucPct: number): ApiResponse => ({
    status: 200,
    headers: {
      'x-app-usage': JSON.stringify({ call_count: appPct, total_time: 1, total_cputime: 1 }),
      'x-business-use-case-usage': JSON.stringify({
        '42': [
          {
            type: 'pages',
            call_count: bucPct,
            total_time: 2,
            total_cputime: 3,
            estimated_time_to_regain_access: 0,
          },
        ],
      }),
    },
    body: {},
  });

  it('reads the highest percentage, and pauses from 95 %', () => {
    expect(protocol.readLimits(usage(28, 40), NOW)).toEqual({ kind: 'usage', usagePercent: 40 });
    expect(protocol.readLimits(usage(96, 10), NOW)).toEqual({
      kind: 'blocked',
      until: NOW + 1000,
      usagePercent: 96,
    });
    expect(protocol.readLimits({ status: 200, headers: {}, body: {} }, NOW)).toBeNull();
    expect(
      protocol.readLimits({ status: 200, headers: { 'x-app-usage': 'not json' }, body: {} }, NOW),
    ).toBeNull();
  });
});
