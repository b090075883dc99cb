// The Instagram connector against the Meta fake (test/fakes/meta), through the shared suite.
import { describeMetaConnector } from '../../../test/fakes/meta/meta-connector-suite.ts';
import { createInstagramConnector } from './instagram.connector.ts';
import { createInstagramProtocol } from './instagram.protocol.ts';

describeMetaConnector({
  platform: 'instagram',
  add: (fake, spec) => fake.addInstagramUser(spec),
  protocol: (fake, now, usagePauseMs) =>
    createInstagramProtocol({ baseUrl: fake.url, appSecret: fake.appSecret, now, usagePauseMs }),
  connector: (options) => createInstagramConnector(options),
  listEdge: '/media',
  refreshPath: /^\/refresh_access_token$/,
  postMetrics: ['likes', 'comments', 'shares', 'saves', 'views', 'reach'],
  deprecated: [
    'impressions',
    'plays',
    'video_views',
    'clips_replays_count',
    'ig_reels_aggregated_all_plays_count',
    'profile_views',
    'audience_gender_age',
    'audience_country',
    'audience_city',
    'audience_locale',
  ],
});
