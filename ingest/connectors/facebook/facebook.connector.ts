// The Facebook Pages connector: one poll of a Page — its profile, its published posts newest
// first with reactions, comments, shares and `post_media_view`, settled daily Page insights, and
// a daily follower country/city snapshot (the pass itself is meta/meta-poll.ts's).
import type { Connector } from '../connector.ts';
import { pollMeta } from '../meta/meta-poll.ts';
import { DEFAULT_META_POLL, type MetaPollSettings } from '../meta/poll-settings.ts';
import { facebookSource } from './facebook.source.ts';

export type FacebookConnectorOptions = Partial<MetaPollSettings>;

/** Page insights come 90 days a call, so a poll may read that many settled days. */
const FACEBOOK_DEFAULTS: MetaPollSettings = { ...DEFAULT_META_POLL, insightDaysPerPoll: 90 };

export function createFacebookConnector(options: FacebookConnectorOptions = {}): Connector {
  const settings: MetaPollSettings = { ...FACEBOOK_DEFAULTS, ...options };
  return {
    platform: 'facebook',
    poll: (ctx) => pollMeta(ctx, facebookSource, settings),
  };
}
