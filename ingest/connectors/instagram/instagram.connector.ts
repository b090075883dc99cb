// The Instagram connector: one poll of a professional account through Instagram Login — its
// profile, its media newest first with their lifetime totals, settled daily insights, and a
// daily follower-demographics snapshot (the pass itself is meta/meta-poll.ts's).
import type { Connector } from '../connector.ts';
import { pollMeta } from '../meta/meta-poll.ts';
import { DEFAULT_META_POLL, type MetaPollSettings } from '../meta/poll-settings.ts';
import { instagramSource } from './instagram.source.ts';

export type InstagramConnectorOptions = Partial<MetaPollSettings>;

export function createInstagramConnector(options: InstagramConnectorOptions = {}): Connector {
  const settings: MetaPollSettings = { ...DEFAULT_META_POLL, ...options };
  return {
    platform: 'instagram',
    poll: (ctx) => pollMeta(ctx, instagramSource, settings),
  };
}
