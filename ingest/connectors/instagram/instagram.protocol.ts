// Instagram API with Instagram Login (graph.instagram.com): Bearer tokens of 60 days refreshed
// with `ig_refresh_token` a week before they expire (the token must be 24 h old and unexpired,
// A.10), and one BUC allowance per app+user (A.8).
import type { PlatformProtocol } from '../connector.ts';
import { createGraphProtocol, type MetaProtocolOptions } from '../meta/graph-protocol.ts';

export function createInstagramProtocol(options: MetaProtocolOptions): PlatformProtocol {
  return createGraphProtocol('instagram', options, {
    // The token endpoint takes the token as a query parameter (A.10).
    path: 'refresh_access_token',
    query: (accessToken) => ({ grant_type: 'ig_refresh_token', access_token: accessToken }),
    what: 'Instagram token refresh',
  });
}
