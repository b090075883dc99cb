// The speed layer: per-hour counters for accounts and posts, app-user sketches, and a tick per
// account and metric for each batch, so live tiles move within a fraction of a second.
import type { BusBatch } from '../../lib/bus/bus.port.ts';
import {
  counterKey,
  hourOf,
  levelKey,
  LIVE_TTL_SECONDS,
  ticksChannel,
  usersKey,
  type Tick,
} from '../../lib/live/live-keys.ts';
import type { Increment, LiveStore, LiveValue } from '../../lib/live/live.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EventEnvelope } from '../../schema/event-envelope.ts';
import { readEnvelope } from './read-envelope.ts';
import { observationsOf, postIdOf, userIdOf } from './observations.ts';

export interface SpeedLayer {
  handleBatch(batch: BusBatch): Promise<void>;
}

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
  logger?: Logger;
  now?: () => number;
}): SpeedLayer {
  const { live, logger, now = Date.now } = deps;

  return {
    async handleBatch(batch) {
      const envelopes: EventEnvelope[] = [];
      for (const message of batch.messages) {
        const parsed = readEnvelope(message);
        // The OLAP sink dead-letters malformed messages; the speed layer only skips them.
        if (parsed.ok) envelopes.push(parsed.envelope);
        else logger?.debug({ offset: message.offset, reason: parsed.reason }, 'skipped');
      }
      const horizon = now() - LIVE_TTL_SECONDS * 1000;
      const live48h = envelopes.filter((e) => Date.parse(e.event.occurredAt) >= horizon);

      const levels = await readLevels(live, live48h);
      const increments = new Map<string, number>();
      const newLevels: LiveValue[] = [];
      const users = new Map<string, string[]>();
      const ticks = new Map<string, TickDraft>();

      const add = (key: string, by: number) => increments.set(key, (increments.get(key) ?? 0) + by);

      for (const { orgId, event } of live48h) {
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
          if (change === 0) continue;
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
        const userId = userIdOf(event);
        if (userId !== '') {
          const key = usersKey(orgId, event.accountId, hour);
          const list = users.get(key);
          if (list) list.push(userId);
          else users.set(key, [userId]);
        }
      }

      const ops: Increment[] = [...increments].map(([key, by]) => ({ key, by }));
      await Promise.all([
        live.increment(ops, LIVE_TTL_SECONDS),
        live.setValues(newLevels, LIVE_TTL_SECONDS),
        live.addUnique(
          [...users].map(([key, members]) => ({ key, members })),
          LIVE_TTL_SECONDS,
        ),
      ]);
      await publishTicks(live, [...ticks.values()]);
    },
  };
}

async function readLevels(
  live: LiveStore,
  envelopes: readonly EventEnvelope[],
): Promise<Map<string, { at: number; value: number }>> {
  const keys = new Set<string>();
  for (const { orgId, event } of envelopes) {
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
