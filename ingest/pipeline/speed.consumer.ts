// The speed layer: per-hour counters for accounts and posts, app-user sketches, and a tick per
// account and metric for each batch, so live tiles move within a fraction of a second. A batch
// redelivered after a failure (the live store unreachable mid-batch, say) adds to no counter twice.
import { randomUUID } from 'node:crypto';
import {
  APP_MINUTE_MS,
  APP_WINDOW_MS,
  appEventUsersKey,
  appWindowKey,
  counterKey,
  hourOf,
  levelKey,
  LIVE_TTL_SECONDS,
  ticksChannel,
  usersKey,
  type Tick,
} from '../../lib/live/live-keys.ts';
import type { Increment, LiveStore, LiveValue } from '../../lib/live/live.port.ts';
import type { EventEnvelope } from '../../schema/event-envelope.ts';
import { dlq, drop, type MessageOutcome, type PipelineStage } from './outcome.ts';
import { readEnvelope } from './read-envelope.ts';
import { observationsOf, postIdOf, userIdOf } from './observations.ts';

export type SpeedLayer = PipelineStage;

interface TickDraft {
  orgId: string;
  accountId: string;
  metric: string;
  delta: number;
  at: number;
  hourKey: string;
}

export function createSpeedLayer(deps: {
  live: LiveStore;
  now?: () => number;
  /**
   * Names the log whose offsets the applied marks count (`Bus.logId`): shared by every process
   * reading one durable log, so a replica or a restarted process that is handed a batch already
   * counted adds nothing; fresh for a log whose offsets restart. Default: fresh.
   */
  logId?: string;
}): SpeedLayer {
  const { live, now = Date.now } = deps;
  const instance = deps.logId ?? randomUUID();

  return {
    name: 'speed-layer',
    async handleBatch(batch) {
      const outcomes: MessageOutcome[] = [];
      const last = batch.messages.at(-1);
      if (!last) return { outcomes };
      const horizon = now() - LIVE_TTL_SECONDS * 1000;
      // An event sent twice in one batch (a client's retry, say) counts once, as in the rollups.
      const ids = new Set<string>();
      const live48h: { offset: number; envelope: EventEnvelope }[] = [];
      for (const message of batch.messages) {
        const parsed = readEnvelope(message);
        if (!parsed.ok) {
          outcomes.push(dlq(message, `malformed: ${parsed.reason}`));
          continue;
        }
        const { orgId, event } = parsed.envelope;
        if (Date.parse(event.occurredAt) < horizon) {
          outcomes.push(drop(message, 'older than the live window; the rollups count it'));
          continue;
        }
        const id = `${orgId}/${event.id}`;
        if (ids.has(id)) continue;
        ids.add(id);
        live48h.push({ offset: message.offset, envelope: parsed.envelope });
      }

      const mark = appliedKey(instance, batch.topic, batch.partition);
      const [[appliedUpTo = 0], levels] = await Promise.all([
        live.counters([mark]),
        readLevels(live, live48h),
      ]);
      const increments = new Map<string, number>();
      const newLevels: LiveValue[] = [];
      const users = new Map<string, string[]>();
      const ticks = new Map<string, TickDraft>();

      const add = (key: string, by: number) => increments.set(key, (increments.get(key) ?? 0) + by);

      for (const { offset, envelope } of live48h) {
        const { orgId, event } = envelope;
        // A redelivered message whose counters were already applied still replays its levels
        // (they may not have been written), but adds nothing to counters or ticks.
        const counting = offset >= appliedUpTo;
        const at = Date.parse(event.occurredAt);
        const hour = hourOf(at);
        const postId = postIdOf(event);
        for (const o of observationsOf(event)) {
          let change = o.value;
          if (o.mode === 'total') {
            const key = levelKey(orgId, event.accountId, postId, o.metric);
            const previous = levels.get(key);
            // Older or repeated totals add nothing; the first one only sets the baseline.
            if (previous && at <= previous.at) continue;
            levels.set(key, { at, value: o.value });
            newLevels.push({ key, value: `${at}:${o.value}` });
            if (!previous) continue;
            change = o.value - previous.value;
          }
          if (change === 0 || !counting) continue;
          const accountCounter = counterKey(orgId, event.accountId, '', o.metric, hour);
          add(accountCounter, change);
          if (postId !== '')
            add(counterKey(orgId, event.accountId, postId, o.metric, hour), change);
          const tickKey = `${orgId}|${event.accountId}|${o.metric}`;
          const tick = ticks.get(tickKey);
          if (tick) {
            tick.delta += change;
            if (at >= tick.at) Object.assign(tick, { at, hourKey: accountCounter });
          } else {
            ticks.set(tickKey, {
              orgId,
              accountId: event.accountId,
              metric: o.metric,
              delta: change,
              at,
              hourKey: accountCounter,
            });
          }
        }
        // Unique-user sketches ignore members added twice, so a replay may add them again.
        const userId = userIdOf(event);
        const sketch = (key: string) => {
          const list = users.get(key);
          if (list) list.push(userId);
          else users.set(key, [userId]);
        };
        if (userId !== '') sketch(usersKey(orgId, event.accountId, hour));
        // Live product tiles: an app's events and users per 5 seconds, users per event per minute.
        if (event.type === 'app') {
          const window = Math.floor(at / APP_WINDOW_MS) * APP_WINDOW_MS;
          if (counting) add(appWindowKey('events', orgId, event.accountId, window), 1);
          if (userId !== '') {
            sketch(appWindowKey('users', orgId, event.accountId, window));
            const minute = Math.floor(at / APP_MINUTE_MS) * APP_MINUTE_MS;
            sketch(appEventUsersKey(orgId, event.accountId, event.name, minute));
          }
        }
      }

      // Counters and the mark move together in one all-or-nothing call, so a batch that failed
      // anywhere (even with the reply of this call lost) is counted exactly once when redelivered.
      // Levels are written only after: written first, a failure in between would hide the
      // changes they carry from the redelivery.
      const next = last.offset + 1;
      if (next > appliedUpTo) {
        const ops: Increment[] = [...increments].map(([key, by]) => ({ key, by }));
        ops.push({ key: mark, by: next - appliedUpTo });
        await live.increment(ops, LIVE_TTL_SECONDS);
      }
      await Promise.all([
        live.setValues(newLevels, LIVE_TTL_SECONDS),
        live.addUnique(
          [...users].map(([key, members]) => ({ key, members })),
          LIVE_TTL_SECONDS,
        ),
      ]);
      // Ticks of a batch whose counters were applied by an earlier attempt are not sent again:
      // a failure between the counters and the publish loses that batch's ticks (the next tick
      // carries the hour's value), never counts twice.
      await publishTicks(live, [...ticks.values()]);
      return { outcomes };
    },
  };
}

/**
 * Next offset of a partition whose counters this speed layer has applied: a counter beside the
 * counters it guards, moved in the same call.
 */
function appliedKey(instance: string, topic: string, partition: number): string {
  return `applied|speed|${instance}|${topic}|${partition}`;
}

async function readLevels(
  live: LiveStore,
  messages: readonly { envelope: EventEnvelope }[],
): Promise<Map<string, { at: number; value: number }>> {
  const keys = new Set<string>();
  for (const { orgId, event } of messages.map((m) => m.envelope)) {
    for (const o of observationsOf(event)) {
      if (o.mode === 'total') keys.add(levelKey(orgId, event.accountId, postIdOf(event), o.metric));
    }
  }
  const list = [...keys];
  const values = list.length > 0 ? await live.getValues(list) : [];
  const levels = new Map<string, { at: number; value: number }>();
  list.forEach((key, i) => {
    const raw = values[i];
    if (raw === undefined) return;
    const [at, value] = raw.split(':').map(Number);
    if (at !== undefined && value !== undefined) levels.set(key, { at, value });
  });
  return levels;
}

async function publishTicks(live: LiveStore, drafts: readonly TickDraft[]): Promise<void> {
  if (drafts.length === 0) return;
  const hourValues = await live.counters(drafts.map((d) => d.hourKey));
  const byOrg = new Map<string, Tick[]>();
  drafts.forEach((d, i) => {
    const tick: Tick = {
      accountId: d.accountId,
      metric: d.metric,
      delta: d.delta,
      hourValue: hourValues[i] ?? 0,
      at: d.at,
    };
    const list = byOrg.get(d.orgId);
    if (list) list.push(tick);
    else byOrg.set(d.orgId, [tick]);
  });
  // One message per organisation and batch: subscribers get every tick of the batch at once.
  await Promise.all(
    [...byOrg].map(([orgId, ticks]) => live.publish(ticksChannel(orgId), JSON.stringify(ticks))),
  );
}
