// The platform protocol both Meta flavours speak: Bearer tokens of 60 days renewed a week ahead,
// answers judged by Graph error code, limits read from the usage headers, one allowance per user
// (A.8). A flavour brings only its base URL and its token endpoint.
import type { PlatformProtocol } from '../connector.ts';
import { readGraphLimits } from './graph-usage.ts';
import { judgeGraph } from './graph-verdict.ts';
import { renewGraphToken, type GraphTokenRenewal } from './graph-tokens.ts';

export const GRAPH_VERSION = 'v25.0';

export interface MetaProtocolOptions {
  /** `https://graph.instagram.com` or `https://graph.facebook.com`, or the fake's URL. */
  baseUrl: string;
  appId?: string;
  appSecret: string;
  /** Refreshed this long before expiry; tokens last 60 days. */
  refreshAheadMs?: number;
  /** Pause when usage reaches 95 % without an announced regain time. */
  usagePauseMs?: number;
  now?: () => number;
}

export const META_REFRESH_AHEAD_MS = 7 * 86_400_000;
export const META_USAGE_PAUSE_MS = 5 * 60_000;

export function createGraphProtocol(
  platform: 'facebook' | 'instagram',
  options: MetaProtocolOptions,
  renewal: GraphTokenRenewal,
): PlatformProtocol {
  const {
    baseUrl,
    refreshAheadMs = META_REFRESH_AHEAD_MS,
    usagePauseMs = META_USAGE_PAUSE_MS,
    now = Date.now,
  } = options;
  return {
    platform,
    baseUrl,
    authorise: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    judge: judgeGraph,
    readLimits: (res, at) => readGraphLimits(res, at, usagePauseMs),
    limitScope: 'user',
    refreshAheadMs,
    refresh: (credentials, http) => renewGraphToken(renewal, baseUrl, credentials, http, now),
  };
}
