// Facebook Pages (graph.facebook.com): Bearer tokens of 60 days exchanged again with
// `fb_exchange_token` a week before they expire (an expired token cannot be, A.10), and one BUC
// allowance per Page (A.8).
import type { PlatformProtocol } from '../connector.ts';
import {
  createGraphProtocol,
  GRAPH_VERSION,
  type MetaProtocolOptions,
} from '../meta/graph-protocol.ts';

export function createFacebookProtocol(
  options: MetaProtocolOptions & { appId: string },
): PlatformProtocol {
  const { appId, appSecret } = options;
  return createGraphProtocol('facebook', options, {
    path: `${GRAPH_VERSION}/oauth/access_token`,
    // Server side only: the query holds the app secret (A.10).
    query: (accessToken) => ({
      grant_type: 'fb_exchange_token',
      client_id: appId,
      client_secret: appSecret,
      fb_exchange_token: accessToken,
    }),
    what: 'Facebook token exchange',
  });
}
