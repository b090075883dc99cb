// One poll of a Meta account, shared by the Facebook Pages and Instagram connectors: the profile,
// a pass over the posts newest first (resumed by a time mark, bounded in pages per poll), then
// settled daily insights and a daily audience snapshot. A flavour brings only its MetaSource.
import type { EventInput } from '../../../schema/event-envelope.ts';
import type { PollContext } from '../connector.ts';
import { eventIdOf, postIdOf, type SocialPlatform } from '../ids.ts';
import { readAudience, readSettledDays } from './account-insights.ts';
import type { MetaSource, Metric, NativePost, Totals } from './graph-source.ts';
import { readCheckpoint, type Pass } from './poll-checkpoint.ts';
import type { MetaPollSettings } from './poll-settings.ts';
import { iso, unix } from './poll-time.ts';

export async function pollMeta(
  ctx: PollContext,
  source: MetaSource,
  settings: MetaPollSettings,
): Promise<void> {
  const { platform, accountId, platformAccountId: nativeId } = ctx.connection;
  let state = readCheckpoint(ctx);
  const started = ctx.now();
  const pass: Pass = state.pass ?? {
    slot: ctx.slot,
    stopAt:
      state.newestSeen === undefined
        ? unix(started - settings.horizonMs)
        : Math.min(state.newestSeen, unix(started - settings.refreshWindowMs)),
  };
  const profile = await source.profile(ctx.api, nativeId);
  let pending: EventInput[] = [
    {
      id: eventIdOf(platform, 'profile', nativeId, pass.slot),
      type: 'profile',
      platform,
      accountId,
      occurredAt: iso(started),
      ...profile,
    },
  ];
  // The range stays as this poll began it while cursors page through it.
  const until = pass.resumeUntil;
  let after: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await source.posts(ctx.api, nativeId, {
      since: pass.stopAt,
      until,
      after,
      limit: settings.pageSize,
    });
    const posts = page.posts.filter((p) => unix(p.publishedAt) >= pass.stopAt);
    const totals =
      posts.length > 0 ? await source.postTotals(ctx.api, posts) : new Map<string, Totals>();
    const observedAt = iso(ctx.now());
    for (const post of posts) {
      pending.push(
        ...postEvents(
          platform,
          accountId,
          post,
          { ...post.totals, ...totals.get(post.nativeId) },
          pass.slot,
          observedAt,
        ),
      );
      const at = unix(post.publishedAt);
      pass.resumeUntil = Math.min(pass.resumeUntil ?? at, at);
      pass.newest = Math.max(pass.newest ?? at, at);
    }
    const done = !page.more || posts.length < page.posts.length;
    state = done
      ? { ...state, pass: null, newestSeen: maxDefined(state.newestSeen, pass.newest) }
      : { ...state, pass: { ...pass } };
    await ctx.emit(pending, state);
    pending = [];
    // Past the bound the pass stays in the checkpoint, resumed by the next poll.
    if (done || pages >= settings.maxPagesPerPoll) break;
    after = page.after;
  }
  state = await readSettledDays(ctx, source, settings, state);
  await readAudience(ctx, source, state);
}

function postEvents(
  platform: SocialPlatform,
  accountId: string,
  post: NativePost,
  totals: Totals,
  slot: number,
  observedAt: string,
): EventInput[] {
  const postId = postIdOf(platform, post.nativeId);
  const events: EventInput[] = [
    {
      id: eventIdOf(platform, 'post', post.nativeId),
      type: 'post',
      action: 'published',
      platform,
      accountId,
      postId,
      content: post.content,
      ...(post.url !== undefined && { url: post.url }),
      ...(post.mediaType !== undefined && { mediaType: post.mediaType }),
      publishedAt: iso(post.publishedAt),
      occurredAt: iso(post.publishedAt),
    },
  ];
  for (const [metric, value] of Object.entries(totals) as [Metric, number | undefined][]) {
    if (value === undefined) continue;
    events.push({
      id: eventIdOf(platform, 'metric', post.nativeId, metric, slot),
      type: 'engagement',
      platform,
      accountId,
      postId,
      metric,
      mode: 'total',
      value,
      occurredAt: observedAt,
    });
  }
  return events;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
