// Polls one TikTok account through the Display API: its profile, then its videos newest first
// by the millisecond cursor until they are older than the pass's end, emitting each page's
// posts and lifetime totals with the checkpoint that continues after it.
import {
  eventInputSchema,
  describeIssues,
  type EventInput,
} from '../../../schema/event-envelope.ts';
import type { Connector, PollContext } from '../connector.ts';
import { ConnectorError } from '../connector.ts';
import { MAX_PAGE_SIZE, readUser, readVideoPage } from './tiktok.api.ts';
import {
  readCheckpoint,
  stopAtFor,
  toCheckpoint,
  type Pass,
  type PassWindow,
} from './tiktok.checkpoint.ts';
import { profileEvent, videoEvents } from './tiktok.normalise.ts';

export interface TikTokConnectorOptions extends Partial<PassWindow> {
  /** Videos per page, at most 20. */
  pageSize?: number;
}

export const TIKTOK_CONNECTOR_DEFAULTS = {
  refreshWindowMs: 7 * 86_400_000,
  horizonMs: 90 * 86_400_000,
  pageSize: MAX_PAGE_SIZE,
} as const;

export function createTikTokConnector(options: TikTokConnectorOptions = {}): Connector {
  const {
    refreshWindowMs = TIKTOK_CONNECTOR_DEFAULTS.refreshWindowMs,
    horizonMs = TIKTOK_CONNECTOR_DEFAULTS.horizonMs,
    pageSize = TIKTOK_CONNECTOR_DEFAULTS.pageSize,
  } = options;
  const window: PassWindow = { refreshWindowMs, horizonMs };
  const maxCount = Math.min(Math.max(1, pageSize), MAX_PAGE_SIZE);

  /** Events the envelope refuses are dropped with a warning rather than failing the page. */
  function valid(ctx: PollContext, events: EventInput[]): EventInput[] {
    return events.filter((event) => {
      const parsed = eventInputSchema.safeParse(event);
      if (!parsed.success) {
        ctx.logger.warn({ eventId: event.id, reason: describeIssues(parsed.error) }, 'dropped');
      }
      return parsed.success;
    });
  }

  async function poll(ctx: PollContext): Promise<void> {
    const { accountId, platformAccountId } = ctx.connection;
    const read = readCheckpoint(ctx.checkpoint);
    if (!read.ok) ctx.logger.warn('unreadable TikTok checkpoint: starting a new pass');
    let { pass, newestSeen } = read.value;

    if (pass === null) {
      const user = await readUser(ctx.api);
      // Events filed under the wrong account could not be taken back: refuse a mixed-up token.
      if (user.open_id !== platformAccountId) {
        throw new ConnectorError('failed', 'the token belongs to another TikTok account');
      }
      pass = { slot: ctx.slot, cursor: null, stopAt: stopAtFor(newestSeen, ctx.now(), window) };
      const profile = profileEvent(user, accountId, ctx.slot, ctx.now());
      await ctx.emit(valid(ctx, [profile]), toCheckpoint({ pass, newestSeen }));
    }
    // A resumed pass emitted its profile already (with the checkpoint that stored the pass).

    for (let next: Pass | null = pass; next !== null;) {
      ctx.signal.throwIfAborted();
      ({ next, newestSeen } = await readPage(ctx, next, newestSeen));
    }
  }

  /** Reads and emits one page of the pass; answers the pass to continue, or null when done. */
  async function readPage(
    ctx: PollContext,
    pass: Pass,
    newestSeen: number | undefined,
  ): Promise<{ next: Pass | null; newestSeen: number | undefined }> {
    const { slot, cursor, stopAt } = pass;
    const page = await readVideoPage(ctx.api, cursor, maxCount);
    if (page.unreadable > 0) ctx.logger.warn({ unreadable: page.unreadable }, 'video entries');
    const wanted = page.videos.filter((v) => v.create_time * 1000 >= stopAt);
    const observedAt = ctx.now();
    const { accountId } = ctx.connection;
    const events = wanted.flatMap((v) => videoEvents(v, accountId, slot, observedAt));
    for (const v of wanted) newestSeen = Math.max(newestSeen ?? 0, v.create_time * 1000);
    // Newest first: one video older than the end means every later page is older too.
    const done = !page.hasMore || wanted.length < page.videos.length || page.cursor <= stopAt;
    if (!done && cursor !== null && page.cursor >= cursor) {
      throw new ConnectorError('failed', 'the video list cursor did not move back');
    }
    const next = done ? null : { ...pass, cursor: page.cursor };
    await ctx.emit(valid(ctx, events), toCheckpoint({ pass: next, newestSeen }));
    return { next, newestSeen };
  }

  return { platform: 'tiktok', poll };
}
