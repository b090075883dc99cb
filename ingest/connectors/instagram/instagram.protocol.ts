// Instagram API with Instagram Login (graph.instagram.com): Bearer tokens of 60 days refreshed
// with `ig_refresh_token` a week before they expire (the token must be 24 h old and unexpired,
// A.10), and one BUC allowance per app+user (A.8).
import type { PlatformProtocol } from '../connector.ts';
import {
  credentialsFrom,
  judgeGraph,
  META_REFRESH_AHEAD_MS,
  META_USAGE_PAUSE_MS,
  readGraphLimits,
  type MetaProtocolOptions,
} from '../meta-graph.ts';

export function createInstagramProtocol(options: MetaProtocolOptions): PlatformProtocol {
  const {
    baseUrl,
    refreshAheadMs = META_REFRESH_AHEAD_MS,
    usagePauseMs = META_USAGE_PAUSE_MS,
    now = Date.now,
  } = options;
  return {
    platform: 'instagram',
    baseUrl,
    authorise: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    judge: judgeGraph,
    readLimits: (res, at) => readGraphLimits(res, at, usagePauseMs),
    limitScope: 'user',
    refreshAheadMs,
    async refresh(credentials, http) {
      // The token endpoint takes the token as a query parameter (A.10); rawHttp never logs URLs.
      const url = new URL('refresh_access_token', baseUrl.replace(/\/?$/, '/'));
      url.searchParams.set('grant_type', 'ig_refresh_token');
      url.searchParams.set('access_token', credentials.accessToken);
      const res = await http({ method: 'GET', url: url.toString() });
      return credentialsFrom(res, credentials, now(), 'Instagram token refresh');
    },
  };
}
