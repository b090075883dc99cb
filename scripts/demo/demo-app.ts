// Northwind's mobile app as a product-analytics source: sessions of custom events (open, browse,
// add to cart, order) from a user pool where a few regulars make most of the visits.
import type { EventInput } from '../../schema/event-envelope.ts';
import { APP_ACCOUNT_ID } from './demo-accounts.ts';
import {
  chance,
  cumulative,
  drawIndex,
  intBetween,
  pick,
  pickWeighted,
  uniform,
  weightedPicker,
  type Rng,
} from './demo-random.ts';
import { iso } from './demo-posts.ts';

type AppEvent = Extract<EventInput, { type: 'app' }>;
type Properties = AppEvent['properties'];

export const APP_USER_COUNT = 5000;

/** Zipf-like weights (offset so the top user is busy, not absurd): regulars and a long tail. */
export function appUserWeights(): Float64Array {
  return cumulative(Array.from({ length: APP_USER_COUNT }, (_, i) => 1 / Math.pow(i + 8, 1.1)));
}

function userOf(rng: Rng, users: Float64Array): string | undefined {
  // Some sessions stay signed out.
  if (chance(rng, 0.08)) return undefined;
  return `nw-user-${String(drawIndex(rng, users) + 1).padStart(5, '0')}`;
}

/** Sessions per local hour: the morning commute, lunch, an afternoon pick-me-up. */
export const SESSION_HOURS: readonly number[] = [
  0.2, 0.1, 0.1, 0.1, 0.3, 1.2, 4, 9, 10, 6, 4, 5, 6.5, 5, 3.5, 4, 3.5, 2.5, 2, 1.5, 1.2, 0.8, 0.5,
  0.3,
];
export const sessionHour = weightedPicker(SESSION_HOURS.map((w, h) => [h, w] as const));
/** Fewer coffee runs at weekends; indexes start on Sunday. */
export const SESSIONS_BY_WEEKDAY = [0.7, 1.05, 1.05, 1.05, 1.05, 1, 0.85];

const MENU: readonly (readonly [string, number, string])[] = [
  ['Cloud Foam Latte', 5.45, 'hot drinks'],
  ['Maple Oat Latte', 5.95, 'hot drinks'],
  ['Flat White', 4.75, 'hot drinks'],
  ['Drip Coffee', 2.95, 'hot drinks'],
  ['Northwind Cold Brew', 4.95, 'cold drinks'],
  ['Sound Fog', 5.25, 'hot drinks'],
  ['Iced Matcha Latte', 5.65, 'cold drinks'],
  ['Blueberry Muffin', 3.45, 'food'],
  ['Breakfast Sandwich', 6.25, 'food'],
];
const STORES = [
  'Seattle – Pike St',
  'Seattle – Capitol Hill',
  'Bellevue Square',
  'Tacoma Dome',
  'Portland – Pearl',
  'Spokane Downtown',
];
const CAMPAIGNS = ['double-rewards', 'new-menu', 'friday-treat', 'we-miss-you'];
const REWARDS: readonly (readonly [string, number])[] = [
  ['free drink', 150],
  ['free pastry', 100],
  ['size upgrade', 50],
];

interface SessionOptions {
  /** Prefix of every event id of the session; unique per session. */
  key: string;
  start: number;
  users: Float64Array;
  /** Mobile ordering is down: checkouts fail. */
  outage: boolean;
  /** A recent post of the brand a social link can open. */
  socialPost?: { postId: string; platform: string };
}

/** One visit to the app: what a funnel (open → menu → cart → order) is built from. */
export function appSession(
  rng: Rng,
  options: SessionOptions,
  add: (at: number, event: AppEvent) => void,
): void {
  const { key, users, outage, socialPost } = options;
  const userId = userOf(rng, users);
  const os = chance(rng, 0.58) ? 'ios' : 'android';
  const appVersion = pickWeighted(rng, { '4.12.0': 6, '4.11.2': 3, '4.10.5': 1 });
  let count = 0;
  let at = options.start;
  const emit = (name: string, properties: Properties, postId?: string) => {
    add(at, {
      id: `${key}:${++count}`,
      type: 'app',
      platform: 'app',
      accountId: APP_ACCOUNT_ID,
      occurredAt: iso(at),
      name,
      ...(userId === undefined ? {} : { userId }),
      ...(postId === undefined ? {} : { postId }),
      properties,
    });
    at += intBetween(rng, 4_000, 75_000);
  };

  const source = socialPost && chance(rng, 0.06) ? 'social' : chance(rng, 0.1) ? 'push' : 'icon';
  if (source === 'push') emit('push_opened', { campaign: pick(rng, CAMPAIGNS) });
  if (source === 'social' && socialPost) {
    emit('post_link_opened', { platform: socialPost.platform }, socialPost.postId);
  }
  emit('app_open', { os, appVersion, source });
  if (!chance(rng, 0.75)) return;

  emit('menu_viewed', { category: pick(rng, ['hot drinks', 'cold drinks', 'food', 'seasonal']) });
  if (!chance(rng, 0.62)) return;

  let cart = 0;
  let items = 0;
  const lines = intBetween(rng, 1, 3);
  for (let i = 0; i < lines; i++) {
    const [item, price, category] = pick(rng, MENU);
    const quantity = chance(rng, 0.85) ? 1 : 2;
    cart += price * quantity;
    items += quantity;
    emit('item_added', { item, category, price, quantity });
  }
  const total = Math.round(cart * 100) / 100;
  if (!chance(rng, 0.82)) return;

  emit('checkout_started', { cartValue: total, items });
  const store = pick(rng, STORES);
  if (outage && chance(rng, 0.8)) {
    emit('order_failed', { reason: 'payment_timeout', store, cartValue: total });
    return;
  }
  const orderId = `${key}:order`;
  emit('order_placed', {
    orderId,
    total,
    currency: 'USD',
    items,
    store,
    pickup: pickWeighted(rng, { counter: 6, 'drive-thru': 3, delivery: 1 }),
    payment: pickWeighted(rng, { card: 5, wallet: 4, 'gift card': 1 }),
    firstOrder: chance(rng, 0.04),
  });
  if (chance(rng, 0.12)) {
    const [reward, stars] = pick(rng, REWARDS);
    emit('reward_redeemed', { reward, stars, orderId });
  }
}

/** A single app event for the live trickle: mostly opens and browsing, now and then an order. */
export function liveAppEvent(rng: Rng, id: string, at: number, users: Float64Array): AppEvent {
  const userId = userOf(rng, users);
  const name = pickWeighted(rng, {
    app_open: 40,
    menu_viewed: 25,
    item_added: 15,
    checkout_started: 8,
    order_placed: 7,
    reward_redeemed: 2,
    push_opened: 3,
  });
  const properties = liveProperties(rng, name, id);
  return {
    id,
    type: 'app',
    platform: 'app',
    accountId: APP_ACCOUNT_ID,
    occurredAt: iso(at),
    name,
    ...(userId === undefined ? {} : { userId }),
    properties,
  };
}

/**
 * Live app events per second at a local hour, on the history's daily cycle. Livelier than the
 * history (about 0.01 a second) so that live tiles visibly move.
 */
export function liveAppRate(localHour: number): number {
  const peak = Math.max(...SESSION_HOURS);
  return 0.1 + 0.9 * ((SESSION_HOURS[localHour] ?? 0) / peak);
}

function liveProperties(rng: Rng, name: string, id: string): Properties {
  const [item, price, category] = pick(rng, MENU);
  switch (name) {
    case 'app_open':
      return { os: chance(rng, 0.58) ? 'ios' : 'android', appVersion: '4.12.0', source: 'icon' };
    case 'menu_viewed':
      return { category };
    case 'item_added':
      return { item, category, price, quantity: 1 };
    case 'checkout_started':
      return { cartValue: price, items: 1 };
    case 'order_placed':
      return {
        orderId: `${id}:order`,
        total: Math.round(price * uniform(rng, 1, 2.2) * 100) / 100,
        currency: 'USD',
        items: intBetween(rng, 1, 3),
        store: pick(rng, STORES),
        pickup: 'counter',
        payment: 'wallet',
        firstOrder: false,
      };
    case 'reward_redeemed':
      return { reward: 'free drink', stars: 150 };
    default:
      return { campaign: pick(rng, CAMPAIGNS) };
  }
}
