// Facebook Pages (graph.facebook.com): Bearer tokens of 60 days exchanged again with
// `fb_exchange_token` a week before they expire (an expired token cannot be, A.10), and one BUC
// allowance per Page (A.8).
import type { PlatformProtocol } from '../connector.ts';
import {
  credentialsFrom,
  GRAPH_VERSION,
  judgeGraph,
  META_REFRESH_AHEAD_MS,
  META_USAGE_PAUSE_MS,
  readGraphLimits,
  type MetaProtocolOptions,
} from '../meta-graph.ts';

export function createFacebookProtocol(
  options: MetaProtocolOptions & { appId: string },
): PlatformProtocol {
  const {
    baseUrl,
    appId,
    appSecret,
    refreshAheadMs = META_REFRESH_AHEAD_MS,
    usagePauseMs = META_USAGE_PAUSE_MS,
    now = Date.now,
  } = options;
  return {
    platform: 'facebook',
    baseUrl,
    authorise: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    judge: judgeGraph,
    readLimits: (res, at) => readGraphLimits(res, at, usagePauseMs),
    limitScope: 'user',
    refreshAheadMs,
    async refresh(credentials, http) {
      // Server side only: the query holds the app secret (A.10); rawHttp never logs URLs.
      const url = new URL(`${GRAPH_VERSION}/oauth/access_token`, baseUrl.replace(/\/?$/, '/'));
      url.searchParams.set('grant_type', 'fb_exchange_token');
      url.searchParams.set('client_id', appId);
      url.searchParams.set('client_secret', appSecret);
      url.searchParams.set('fb_exchange_token', credentials.accessToken);
      const res = await http({ method: 'GET', url: url.toString() });
      return credentialsFrom(res, credentials, now(), 'Facebook token exchange');
    },
  };
}
