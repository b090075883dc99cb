// The account-level reads after a Meta poll's post pass: settled daily insights, each day read
// once, and an audience snapshot a day at most.
import type { EventInput } from '../../../schema/event-envelope.ts';
import type { PollContext } from '../connector.ts';
import { eventIdOf } from '../ids.ts';
import type { MetaSource } from './graph-source.ts';
import type { MetaCheckpoint } from './poll-checkpoint.ts';
import type { MetaPollSettings } from './poll-settings.ts';
import { DAY, dayKey, iso, lastSettledDay } from './poll-time.ts';

/** Account insights for days not read yet that have settled, each day read once. */
export async function readSettledDays(
  ctx: PollContext,
  source: MetaSource,
  settings: MetaPollSettings,
  state: MetaCheckpoint,
): Promise<MetaCheckpoint> {
  const { platform, accountId, platformAccountId: nativeId } = ctx.connection;
  const lastSettled = lastSettledDay(ctx.now());
  const from =
    state.insightsThrough === undefined
      ? lastSettled - (settings.insightsHorizonDays - 1) * DAY
      : Date.parse(`${state.insightsThrough}T00:00:00Z`) + DAY;
  if (from > lastSettled) return state;
  const to = Math.min(lastSettled, from + (settings.insightDaysPerPoll - 1) * DAY);
  const days: number[] = [];
  for (let d = from; d <= to; d += DAY) days.push(d);
  const values = await source.dayInsights(ctx.api, nativeId, days);
  const events: EventInput[] = values.map(({ day, metric, value }) => ({
    id: eventIdOf(platform, 'insight', nativeId, metric, dayKey(day)),
    type: 'engagement',
    platform,
    accountId,
    metric,
    mode: 'delta',
    value,
    occurredAt: iso(day),
  }));
  const next = { ...state, insightsThrough: dayKey(to) };
  await ctx.emit(events, next);
  return next;
}

/** One audience snapshot a day at most: demographics move slowly and cost a call per breakdown. */
export async function readAudience(
  ctx: PollContext,
  source: MetaSource,
  state: MetaCheckpoint,
): Promise<void> {
  const { platform, accountId, platformAccountId: nativeId } = ctx.connection;
  const now = ctx.now();
  const today = dayKey(now);
  if (state.audienceOn === today) return;
  const audience = await source.audience(ctx.api, nativeId, lastSettledDay(now));
  const buckets = Object.fromEntries(
    Object.entries(audience ?? {}).filter(([, b]) => Object.keys(b).length > 0),
  );
  const events: EventInput[] =
    Object.keys(buckets).length > 0
      ? [
          {
            id: eventIdOf(platform, 'audience', nativeId, today),
            type: 'audience',
            platform,
            accountId,
            occurredAt: iso(now),
            ...buckets,
          },
        ]
      : [];
  await ctx.emit(events, { ...state, audienceOn: today });
}
