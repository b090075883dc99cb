// The Facebook Pages connector against the Meta fake (test/fakes/meta), through the shared suite.
import { describeMetaConnector } from '../../../test/fakes/meta/meta-connector-suite.ts';
import { createFacebookConnector } from './facebook.connector.ts';
import { createFacebookProtocol } from './facebook.protocol.ts';

describeMetaConnector({
  platform: 'facebook',
  add: (fake, spec) => fake.addPage(spec),
  protocol: (fake, now, usagePauseMs) =>
    createFacebookProtocol({
      baseUrl: fake.url,
      appId: fake.appId,
      appSecret: fake.appSecret,
      now,
      usagePauseMs,
    }),
  connector: (options) => createFacebookConnector(options),
  listEdge: '/published_posts',
  refreshPath: /^\/v25\.0\/oauth\/access_token$/,
  postMetrics: ['likes', 'comments', 'shares', 'views', 'reach'],
  deprecated: [
    'page_fans',
    'page_fan_adds',
    'page_impressions',
    'page_engaged_users',
    'page_consumptions',
    'page_posts_impressions',
    'post_impressions',
    'post_engaged_users',
  ],
});
