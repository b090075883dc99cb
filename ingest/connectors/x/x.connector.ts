// One poll of an X account: its profile, then its posts newest to oldest through next_token
// pages, each page emitted with a checkpoint. A pass reads back to what the last one saw, but at
// least a week, so recent posts' totals are refreshed on every poll; the first pass backfills
// to a horizon (or X's 3,200-post cap). A pass cut short resumes from its oldest emitted post
// with `until_id`, because next tokens may expire, and keeps its slot so re-read totals dedupe.
import { z } from 'zod';
import type { Checkpoint, Connector, PollContext } from '../connector.ts';
import { postEvents, profileEvent, readPage, readUser, type EventScope } from './x.normalise.ts';

export interface XConnectorOptions {
  /** Posts younger than this have their totals read again on every poll. */
  refreshWindowMs?: number;
  /** How far back the first poll reads. */
  horizonMs?: number;
  /** X allows 5–100. */
  pageSize?: number;
  /** A pass stops after this many pages and continues at the next poll. */
  maxPagesPerPoll?: number;
}

const passSchema = z.object({
  slot: z.number(),
  /** The oldest post emitted so far; the pass continues below it. */
  untilId: z
    .string()
    .regex(/^\d{1,19}$/)
    .nullable(),
  /** Epoch ms: posts older than this are not read in this pass. */
  stopAt: z.number(),
});
type Pass = z.infer<typeof passSchema>;

const checkpointSchema = z.object({
  pass: passSchema.nullable().default(null),
  /** Epoch ms of the newest post ever seen. */
  newestSeen: z.number().nullable().default(null),
});
export type XCheckpoint = z.infer<typeof checkpointSchema>;

const DAY_MS = 86_400_000;

export function createXConnector(options: XConnectorOptions = {}): Connector {
  const {
    refreshWindowMs = 7 * DAY_MS,
    horizonMs = 90 * DAY_MS,
    pageSize = 100,
    maxPagesPerPoll = 64,
  } = options;

  function readCheckpoint(ctx: PollContext): XCheckpoint {
    const parsed = checkpointSchema.safeParse(ctx.checkpoint ?? {});
    if (parsed.success) return parsed.data;
    ctx.logger.warn(
      { issues: parsed.error.issues.length },
      'x: unreadable checkpoint, starting over',
    );
    return { pass: null, newestSeen: null };
  }

  async function poll(ctx: PollContext): Promise<void> {
    const userId = ctx.connection.platformAccountId;
    const prior = readCheckpoint(ctx);
    let newestSeen = prior.newestSeen;
    const pass: Pass = prior.pass ?? {
      slot: ctx.slot,
      untilId: null,
      stopAt:
        newestSeen === null
          ? ctx.now() - horizonMs
          : Math.min(newestSeen, ctx.now() - refreshWindowMs),
    };
    const scope = (): EventScope => ({
      accountId: ctx.connection.accountId,
      observedAt: new Date(ctx.now()).toISOString(),
      slot: pass.slot,
    });
    const during = (): Checkpoint => ({ pass: { ...pass }, newestSeen });

    const user = readUser(
      await ctx.api.call({
        path: `/2/users/${encodeURIComponent(userId)}`,
        query: { 'user.fields': 'public_metrics' },
        endpoint: 'GET /2/users/:id',
      }),
      userId,
    );
    await ctx.emit([profileEvent(user, scope())], during());

    // A next_token is good only with the query it came from, so that query stays fixed.
    const query = {
      max_results: pageSize,
      'tweet.fields': 'created_at,public_metrics',
      start_time: new Date(pass.stopAt).toISOString(),
      ...(pass.untilId !== null && { until_id: pass.untilId }),
    };
    let nextToken: string | undefined;
    for (let pages = 0; pages < maxPagesPerPoll; pages++) {
      ctx.signal.throwIfAborted();
      const page = readPage(
        await ctx.api.call({
          path: `/2/users/${encodeURIComponent(userId)}/tweets`,
          query: { ...query, pagination_token: nextToken },
          endpoint: 'GET /2/users/:id/tweets',
        }),
      );
      const posts = page.data ?? [];
      // start_time already bounds the pass; an answer that ignored it still ends here.
      const kept = posts.filter((p) => Date.parse(p.created_at) >= pass.stopAt);
      const observed = scope();
      const events = kept.flatMap((p) => postEvents(p, user.username, observed));
      for (const p of kept) newestSeen = Math.max(newestSeen ?? 0, Date.parse(p.created_at));
      const oldest = kept.at(-1);
      if (oldest) pass.untilId = oldest.id;
      nextToken = page.meta?.next_token;
      const done = nextToken === undefined || kept.length < posts.length;
      await ctx.emit(events, done ? { pass: null, newestSeen } : during());
      if (done) return;
    }
    ctx.logger.info({ userId }, 'x: page budget spent, the pass continues at the next poll');
  }

  return { platform: 'x', poll };
}
