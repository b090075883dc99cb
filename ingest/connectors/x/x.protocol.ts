// What is particular to X API v2 (PLATFORMS.md part B): Bearer user tokens, problem JSON errors,
// counted windows in x-rate-limit-* headers (reset in epoch seconds), and OAuth 2.0 refresh
// tokens that rotate on every use.
import type {
  ApiResponse,
  Credentials,
  LimitReading,
  PlatformProtocol,
  RawHttp,
  Verdict,
} from '../connector.ts';
import { ConnectorError } from '../connector.ts';

export interface XProtocolOptions {
  /** `https://api.x.com`, or the fake's URL. */
  baseUrl: string;
  clientId: string;
  /** The confidential client's secret; sent as Basic auth to the token endpoint. */
  clientSecret: string;
  /** Refresh this long before the access token's 2 hours are up. */
  refreshAheadMs?: number;
  now?: () => number;
}

function header(response: ApiResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function numberHeader(response: ApiResponse, name: string): number | undefined {
  const text = header(response, name);
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function field(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** The problem's type, title and detail in one line; X's problems carry no tokens. */
function describe(response: ApiResponse): string {
  const title = field(response.body, 'title');
  const detail = field(response.body, 'detail');
  const text = [title, detail && detail !== title ? detail : undefined].filter(Boolean).join(': ');
  return `HTTP ${response.status}${text ? ` ${text}` : ''}`.slice(0, 300);
}

const problemType = (response: ApiResponse) => field(response.body, 'type') ?? '';

export function createXProtocol(options: XProtocolOptions): PlatformProtocol {
  const now = options.now ?? Date.now;
  const tokenUrl = new URL('2/oauth2/token', options.baseUrl.replace(/\/?$/, '/')).toString();
  const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');

  function judge(response: ApiResponse): Verdict {
    const { status } = response;
    if (status >= 200 && status < 300) return { kind: 'ok' };
    const reason = describe(response);
    if (status === 401) return { kind: 'expired', reason };
    if (status === 429) {
      // A monthly usage cap does not lift at the window's reset: retrying only burns calls.
      if (problemType(response).endsWith('/problems/usage-capped')) {
        return { kind: 'failed', reason: `usage cap reached (${reason})` };
      }
      const reset = numberHeader(response, 'x-rate-limit-reset');
      return { kind: 'throttled', reason, ...(reset !== undefined && { until: reset * 1000 }) };
    }
    if (status >= 500) return { kind: 'transient', reason };
    return { kind: 'failed', reason };
  }

  function readLimits(response: ApiResponse): LimitReading | null {
    const limit = numberHeader(response, 'x-rate-limit-limit');
    const remaining = numberHeader(response, 'x-rate-limit-remaining');
    const reset = numberHeader(response, 'x-rate-limit-reset');
    if (limit === undefined || remaining === undefined || reset === undefined) return null;
    return { kind: 'window', limit, remaining, resetAt: reset * 1000 };
  }

  async function refresh(credentials: Credentials, http: RawHttp): Promise<Credentials> {
    const refreshToken = credentials.refreshToken;
    if (!refreshToken) {
      throw new ConnectorError('revoked', 'the X token expired and no refresh token was granted');
    }
    const response = await http({
      method: 'POST',
      url: tokenUrl,
      headers: { authorization: `Basic ${basic}` },
      form: { grant_type: 'refresh_token', refresh_token: refreshToken },
    });
    const body = response.body;
    const error = field(body, 'error');
    if (response.status === 400 && error === 'invalid_grant') {
      throw new ConnectorError(
        'revoked',
        'X refused the refresh token (invalid_grant): connect again',
      );
    }
    const accessToken = field(body, 'access_token');
    if (response.status !== 200 || !accessToken) {
      // The description is the platform's prose; the token is kept out in case it is echoed.
      const description = (field(body, 'error_description') ?? '')
        .split(refreshToken)
        .join('[token]');
      throw new ConnectorError(
        'failed',
        `X token endpoint: HTTP ${response.status} ${error ?? 'unexpected answer'}${description ? `: ${description.slice(0, 200)}` : ''}`,
      );
    }
    const expiresIn = (body as { expires_in?: unknown }).expires_in;
    return {
      ...credentials,
      accessToken,
      // Rotation: the old refresh token is spent, so the new one replaces it.
      refreshToken: field(body, 'refresh_token') ?? refreshToken,
      // Access tokens last 2 hours as documented, when the answer does not say.
      expiresAt: now() + (typeof expiresIn === 'number' ? expiresIn : 7200) * 1000,
    };
  }

  return {
    platform: 'x',
    baseUrl: options.baseUrl,
    authorise: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    judge,
    readLimits,
    limitScope: 'user',
    refreshAheadMs: options.refreshAheadMs ?? 5 * 60_000,
    refresh,
  };
}
