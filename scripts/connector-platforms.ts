// The four connectors, each with its platform's protocol, as configuration sets them up. A
// platform whose app is not configured has no binding, and its connections say which settings
// are missing instead of polling.
import type { ConnectorsConfig } from '../lib/config.ts';
import { createFacebookConnector } from '../ingest/connectors/facebook/facebook.connector.ts';
import { createFacebookProtocol } from '../ingest/connectors/facebook/facebook.protocol.ts';
import type { SocialPlatform } from '../ingest/connectors/ids.ts';
import { createInstagramConnector } from '../ingest/connectors/instagram/instagram.connector.ts';
import { createInstagramProtocol } from '../ingest/connectors/instagram/instagram.protocol.ts';
import type { PlatformBindings } from '../ingest/connectors/manager.ts';
import { createTikTokConnector } from '../ingest/connectors/tiktok/tiktok.connector.ts';
import { createTikTokProtocol } from '../ingest/connectors/tiktok/tiktok.protocol.ts';
import { createXConnector } from '../ingest/connectors/x/x.connector.ts';
import { createXProtocol } from '../ingest/connectors/x/x.protocol.ts';

export function connectorPlatforms(config: ConnectorsConfig): PlatformBindings {
  const bindings: PlatformBindings = {};
  const missing = (platform: SocialPlatform, names: string[]) => {
    bindings[platform] = {
      missing: `the ${platform} app is not configured in this deployment: set ${names.join(' and ')}`,
    };
  };
  const { facebook, instagram, x, tiktok } = config;
  if (facebook.appId && facebook.appSecret) {
    bindings.facebook = {
      protocol: createFacebookProtocol({
        baseUrl: facebook.baseUrl,
        appId: facebook.appId,
        appSecret: facebook.appSecret,
      }),
      connector: createFacebookConnector(),
    };
  } else missing('facebook', ['LOUPE_META_APP_ID', 'LOUPE_META_APP_SECRET']);
  if (instagram.appSecret) {
    bindings.instagram = {
      protocol: createInstagramProtocol({
        baseUrl: instagram.baseUrl,
        appSecret: instagram.appSecret,
        ...(instagram.appId && { appId: instagram.appId }),
      }),
      connector: createInstagramConnector(),
    };
  } else missing('instagram', ['LOUPE_META_APP_SECRET']);
  if (x.clientId && x.clientSecret) {
    bindings.x = {
      protocol: createXProtocol({
        baseUrl: x.baseUrl,
        clientId: x.clientId,
        clientSecret: x.clientSecret,
      }),
      connector: createXConnector(),
    };
  } else missing('x', ['LOUPE_X_CLIENT_ID', 'LOUPE_X_CLIENT_SECRET']);
  if (tiktok.clientKey && tiktok.clientSecret) {
    bindings.tiktok = {
      protocol: createTikTokProtocol({
        baseUrl: tiktok.baseUrl,
        clientKey: tiktok.clientKey,
        clientSecret: tiktok.clientSecret,
      }),
      connector: createTikTokConnector(),
    };
  } else missing('tiktok', ['LOUPE_TIKTOK_CLIENT_KEY', 'LOUPE_TIKTOK_CLIENT_SECRET']);
  return bindings;
}
