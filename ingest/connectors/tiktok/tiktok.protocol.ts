// What TikTok's API v2 is to the platform client: Bearer tokens, the v2 error envelope judged
// by `error.code`, no limit headers (so the documented 600 calls per sliding minute per endpoint
// is kept here, for the whole app), and refresh tokens at /v2/oauth/token/.
import { z } from 'zod';
import type { ApiResponse, Credentials, PlatformProtocol, RawHttp, Verdict } from '../connector.ts';
import { ConnectorError } from '../connector.ts';

export interface TikTokProtocolOptions {
  /** `https://open.tiktokapis.com`, or a fake's URL. */
  baseUrl: string;
  clientKey: string;
  clientSecret: string;
  /** TikTok's limit per endpoint for the app; default 600 calls per 60 s, sliding. */
  limit?: { calls: number; windowMs: number };
  /** Added to the window kept here: a call leaves our clock before TikTok's counts it. */
  limitMarginMs?: number;
  /** Default one hour; access tokens live 24 h. */
  refreshAheadMs?: number;
  now?: () => number;
}

export const TIKTOK_PROTOCOL_DEFAULTS = {
  baseUrl: 'https://open.tiktokapis.com',
  limit: { calls: 600, windowMs: 60_000 },
  limitMarginMs: 1_000,
  refreshAheadMs: 3_600_000,
} as const;

export const TOKEN_PATH = '/v2/oauth/token/';

const envelopeSchema = z.object({
  error: z.object({ code: z.string(), message: z.string().optional() }).optional(),
});

const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
  refresh_expires_in: z.number().positive().optional(),
});

const oauthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
});

/** The platform's words, bounded, for a reason that ends up in logs and the connection's status. */
function words(text: string | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);
}

export function createTikTokProtocol(options: TikTokProtocolOptions): PlatformProtocol {
  const {
    baseUrl,
    clientKey,
    clientSecret,
    limit = TIKTOK_PROTOCOL_DEFAULTS.limit,
    limitMarginMs = TIKTOK_PROTOCOL_DEFAULTS.limitMarginMs,
    refreshAheadMs = TIKTOK_PROTOCOL_DEFAULTS.refreshAheadMs,
    now = Date.now,
  } = options;

  function judge(response: ApiResponse, at: number): Verdict {
    const parsed = envelopeSchema.safeParse(response.body);
    const error = parsed.success ? parsed.data.error : undefined;
    const code = error?.code;
    const status = response.status;
    if (status >= 200 && status < 300 && code === 'ok') return { kind: 'ok' };
    const reason = `${status} ${code ?? 'without an error code'}${error?.message ? `: ${words(error.message)}` : ''}`;
    if (code === 'access_token_invalid') return { kind: 'expired', reason };
    // Only the user can grant a scope again: the connection needs a new consent.
    if (code === 'scope_not_authorized') return { kind: 'revoked', reason };
    // TikTok announces no reset; a sliding window is free again at the latest one window later.
    if (code === 'rate_limit_exceeded' || status === 429) {
      return { kind: 'throttled', reason, until: at + limit.windowMs };
    }
    if (status >= 500 || code === 'internal_error') return { kind: 'transient', reason };
    if (status === 401) return { kind: 'expired', reason };
    return { kind: 'failed', reason };
  }

  async function refresh(credentials: Credentials, http: RawHttp): Promise<Credentials> {
    const { refreshToken } = credentials;
    if (!refreshToken)
      throw new ConnectorError('revoked', 'no refresh token: connect TikTok again');
    const res = await http({
      method: 'POST',
      url: new URL(TOKEN_PATH, baseUrl).toString(),
      form: {
        client_key: clientKey,
        client_secret: clientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      },
    });
    const refused = oauthErrorSchema.safeParse(res.body);
    if (refused.success) {
      const { error } = refused.data;
      // The description is TikTok's; tokens are scrubbed in case it ever echoes one.
      const description = words(refused.data.error_description)
        .replaceAll(refreshToken, '[token]')
        .replaceAll(credentials.accessToken, '[token]');
      const message = `token refresh refused (${res.status} ${error}${description ? `: ${description}` : ''})`;
      if (error === 'invalid_grant') {
        throw new ConnectorError('revoked', `${message}: connect TikTok again`);
      }
      throw new ConnectorError('failed', message);
    }
    const fresh = tokenSchema.safeParse(res.body);
    if (res.status !== 200 || !fresh.success) {
      throw new ConnectorError('failed', `token refresh: unexpected answer (${res.status})`);
    }
    const at = now();
    const t = fresh.data;
    return {
      accessToken: t.access_token,
      // Whether TikTok rotates refresh tokens is not documented: keep the old one if none came.
      refreshToken: t.refresh_token ?? refreshToken,
      expiresAt: at + t.expires_in * 1000,
      refreshExpiresAt:
        t.refresh_expires_in === undefined
          ? credentials.refreshExpiresAt
          : at + t.refresh_expires_in * 1000,
    };
  }

  return {
    platform: 'tiktok',
    baseUrl,
    authorise: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    judge,
    // The v2 Display API documents no rate-limit headers.
    readLimits: () => null,
    limitScope: 'app',
    clientLimit: () => ({ calls: limit.calls, windowMs: limit.windowMs + limitMarginMs }),
    refreshAheadMs,
    refresh,
  };
}
