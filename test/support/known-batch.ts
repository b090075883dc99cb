// A known batch of events for one fresh account, covering every metric-bearing kind: deltas,
// lifetime totals re-observed unchanged and out of order, profile snapshots, app events.
import { randomUUID } from 'node:crypto';
import type { EventInput } from '../../schema/event-envelope.ts';
import { seeded } from '../fakes/seeded-random.ts';

// Tests replay their random cases from here; the generator is the fakes' own.
export { seeded };

export interface KnownBatch {
  accountId: string;
  postIds: string[];
  events: EventInput[];
  /** Range covering every event, aligned to days. */
  from: number;
  to: number;
}

const HOUR = 3_600_000;

export function knownBatch(options: {
  end: number;
  hours: number;
  seed?: number;
  size?: number;
  platform?: 'facebook' | 'instagram' | 'x' | 'tiktok';
}): KnownBatch {
  const random = seeded(options.seed ?? 7);
  const accountId = `acct-${randomUUID()}`;
  const postIds = [0, 1, 2].map((i) => `${accountId}-post-${i}`);
  const start = options.end - options.hours * HOUR;
  const at = () => new Date(start + Math.floor(random() * (options.end - start))).toISOString();
  const id = () => randomUUID();
  const base = { platform: options.platform ?? 'instagram', accountId };
  const events: EventInput[] = [];
  const size = options.size ?? 400;

  for (let i = 0; i < size; i++) {
    const r = random();
    const postId = postIds[Math.floor(random() * postIds.length)];
    if (r < 0.4) {
      // Quotes engage on X only: the same batch on two platforms counts them differently.
      const metric = (['likes', 'comments', 'shares', 'views', 'quotes'] as const)[
        Math.floor(random() * 5)
      ]!;
      events.push({
        ...base,
        id: id(),
        type: 'engagement',
        metric,
        mode: 'delta',
        value: 1 + Math.floor(random() * 5),
        occurredAt: at(),
        ...(random() < 0.8 ? { postId } : {}),
      });
    } else if (r < 0.55) {
      events.push({
        ...base,
        id: id(),
        type: 'app',
        name: 'open',
        userId: `user-${Math.floor(random() * 40)}`,
        properties: { screen: 'home' },
        occurredAt: at(),
      });
    } else if (r < 0.6) {
      events.push({
        ...base,
        id: id(),
        type: 'comment',
        kind: 'comment',
        commentId: id(),
        postId,
        text: 'great post',
        occurredAt: at(),
      });
    }
  }
  // Lifetime totals per post: increasing with time, then sent shuffled and partly repeated.
  // Saves are an engagement on Instagram, impressions never are.
  const totals: EventInput[] = [];
  for (const postId of postIds) {
    let impressions = 100;
    let saves = 3;
    for (let t = start; t < options.end; t += HOUR * 3) {
      impressions += Math.floor(random() * 50);
      saves += Math.floor(random() * 3);
      for (const [metric, value] of [
        ['impressions', impressions],
        ['saves', saves],
      ] as const) {
        totals.push({
          ...base,
          id: id(),
          type: 'engagement',
          metric,
          mode: 'total',
          value,
          postId,
          occurredAt: new Date(t + 60_000 + (metric === 'saves' ? 7_000 : 0)).toISOString(),
        });
      }
    }
  }
  let followers = 1000;
  for (let t = start; t < options.end; t += HOUR * 6) {
    followers += Math.floor(random() * 20) - 5;
    totals.push({
      ...base,
      id: id(),
      type: 'profile',
      handle: 'known',
      displayName: 'Known',
      followers,
      following: 10,
      postCount: 3,
      occurredAt: new Date(t + 120_000).toISOString(),
    });
  }
  // The same reading again under a new id: an unchanged total must add nothing.
  const repeats = totals.slice(0, 5).map((e) => ({ ...e, id: id() }));
  const all = [...events, ...totals, ...repeats];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const day = 86_400_000;
  return {
    accountId,
    postIds,
    events: all,
    from: Math.floor(start / day) * day,
    to: Math.ceil(options.end / day) * day,
  };
}
