// Northwind's mobile app as a product-analytics source: sessions of events with real drop-off
// (app_open → page_view → add_to_cart → checkout_started → purchase) from a user pool where a few
// regulars make most of the visits. Every event carries the user's country and device; sessions
// that came from a campaign or a social post carry their utm on their first events.
import type { EventInput } from '../../schema/event-envelope.ts';
import { APP_ACCOUNT_ID } from './demo-accounts.ts';
import { MINUTE, iso } from './demo-posts.ts';
import {
  chance,
  cumulative,
  drawIndex,
  intBetween,
  pick,
  pickWeighted,
  rngFor,
  weightedPicker,
  type Rng,
} from './demo-random.ts';

type AppEvent = Extract<EventInput, { type: 'app' }>;
type Properties = AppEvent['properties'];
type PersonProperties = NonNullable<AppEvent['set']>;

export const APP_USER_COUNT = 5000;

/** Sessions per local hour: the morning commute, lunch, an afternoon pick-me-up. */
export const SESSION_HOURS: readonly number[] = [
  0.2, 0.1, 0.1, 0.1, 0.3, 1.2, 4, 9, 10, 6, 4, 5, 6.5, 5, 3.5, 4, 3.5, 2.5, 2, 1.5, 1.2, 0.8, 0.5,
  0.3,
];
export const sessionHour = weightedPicker(SESSION_HOURS.map((w, h) => [h, w] as const));
/** Fewer coffee runs at weekends; indexes start on Sunday. */
export const SESSIONS_BY_WEEKDAY = [0.7, 1.05, 1.05, 1.05, 1.05, 1, 0.85];

type MenuItem = readonly [name: string, price: number, category: string];
const MENU: readonly MenuItem[] = [
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

type DeviceType = 'mobile' | 'tablet' | 'desktop';
type Os = 'ios' | 'android' | 'web';
export interface Device {
  type: DeviceType;
  os: Os;
}
const MOBILE_IOS: Device = { type: 'mobile', os: 'ios' };
const MOBILE_ANDROID: Device = { type: 'mobile', os: 'android' };
const TABLET_IOS: Device = { type: 'tablet', os: 'ios' };
const TABLET_ANDROID: Device = { type: 'tablet', os: 'android' };
const DESKTOP_WEB: Device = { type: 'desktop', os: 'web' };
const primaryDevice = weightedPicker<Device>([
  [MOBILE_IOS, 49],
  [MOBILE_ANDROID, 36],
  [TABLET_IOS, 5],
  [TABLET_ANDROID, 2],
  [DESKTOP_WEB, 8],
]);
const country = weightedPicker([
  ['US', 82],
  ['CA', 9],
  ['GB', 5],
  ['AU', 1.5],
  ['DE', 1],
  ['MX', 1],
  ['JP', 0.5],
] as const);

/** How likely a user's session goes on to the cart: regulars order, some only ever look. */
const APPETITE = { regular: 0.62, occasional: 0.3, browser: 0.05, anonymous: 0.12 } as const;

export interface AppUser {
  id: string;
  country: string;
  device: Device;
  /** A tablet or laptop some users order from now and then, with its share of their sessions. */
  second?: { device: Device; share: number };
  appetite: number;
  plan: 'free' | 'rewards_gold';
  favouriteStore: string;
  signupSource: string;
}

export interface AppUserPool {
  users: readonly AppUser[];
  /** Zipf-like weights (offset so the top user is busy, not absurd): regulars and a long tail. */
  weights: Float64Array;
}

/** The app's users, the same for a seed in the history and the live traffic. */
export function appUsers(seed: number): AppUserPool {
  const rng = rngFor(seed, `${APP_ACCOUNT_ID}|users`);
  const users = Array.from({ length: APP_USER_COUNT }, (_, i): AppUser => {
    const device = primaryDevice(rng);
    const kind = pickWeighted(rng, { regular: 35, occasional: 40, browser: 25 });
    const gold = chance(rng, kind === 'regular' ? 0.45 : 0.12);
    return {
      id: `nw-user-${String(i + 1).padStart(5, '0')}`,
      country: country(rng),
      device,
      ...(chance(rng, 0.15) ? { second: secondDevice(rng, device) } : {}),
      appetite: APPETITE[kind],
      plan: gold ? 'rewards_gold' : 'free',
      favouriteStore: pickWeighted(rng, Object.fromEntries(STORES.map((s, j) => [s, 6 - j]))),
      signupSource:
        device.os === 'web'
          ? pickWeighted(rng, { web: 4, instagram: 2, referral: 1 })
          : pickWeighted(rng, {
              [device.os === 'ios' ? 'app_store' : 'google_play']: 5,
              in_store_qr: 2,
              instagram: 2,
              referral: 1.5,
              tiktok: 1,
            }),
    };
  });
  const weights = cumulative(users.map((_, i) => 1 / Math.pow(i + 8, 1.1)));
  return { users, weights };
}

function secondDevice(rng: Rng, first: Device): { device: Device; share: number } {
  const device =
    first.type === 'desktop' ? MOBILE_IOS : chance(rng, 0.6) ? DESKTOP_WEB : TABLET_IOS;
  return { device, share: 0.15 + 0.25 * rng() };
}

/** Who a session is: a signed-in user of the pool, or someone signed out (no userId). */
interface Visitor {
  user?: AppUser;
  country: string;
  device: Device;
  appetite: number;
}

function visitorOf(rng: Rng, pool: AppUserPool): Visitor {
  if (chance(rng, 0.12)) {
    return { country: country(rng), device: primaryDevice(rng), appetite: APPETITE.anonymous };
  }
  const user = pool.users[drawIndex(rng, pool.weights)];
  if (!user) throw new Error('no app users');
  const device = user.second && chance(rng, user.second.share) ? user.second.device : user.device;
  return { user, country: user.country, device, appetite: user.appetite };
}

interface Utm {
  source: string;
  medium: string;
  campaign: string;
}

/** Where a session came from: most open the app themselves, some from a push, a mail or a post. */
function arrivalOf(rng: Rng, socialPost: SocialPost | undefined): { utm?: Utm; postId?: string } {
  if (socialPost && chance(rng, 0.07)) {
    const campaign = socialPost.content.includes('#CloudFoam') ? 'cloud-foam' : 'organic-post';
    return {
      utm: { source: socialPost.platform, medium: 'social', campaign },
      postId: socialPost.postId,
    };
  }
  const r = rng();
  if (r < 0.1) return { utm: { source: 'push', medium: 'push', campaign: pick(rng, CAMPAIGNS) } };
  if (r < 0.14) {
    return { utm: { source: 'newsletter', medium: 'email', campaign: pick(rng, CAMPAIGNS) } };
  }
  if (r < 0.17) {
    return { utm: { source: 'instagram', medium: 'paid_social', campaign: 'new-menu' } };
  }
  return {};
}

export interface SocialPost {
  postId: string;
  platform: string;
  content: string;
}

interface SessionOptions {
  /** The session's id, and the prefix of every event id of the session; unique per session. */
  key: string;
  start: number;
  users: AppUserPool;
  /** Users who already had a session: the first one of a user sets its first-seen properties. */
  seen: Set<string>;
  /** Mobile ordering is down: checkouts fail. */
  outage: boolean;
  /** A recent post of the brand a social link can open. */
  socialPost?: SocialPost;
}

const slug = (text: string) => text.toLowerCase().replaceAll(' ', '-');
const SCREENS: Record<string, string> = {
  '/': 'Home',
  '/menu': 'Menu',
  '/rewards': 'Rewards',
  '/offers': 'Offers',
  '/stores': 'StoreFinder',
  '/account': 'Account',
  '/cart': 'Cart',
};
const BROWSE = ['/menu', '/rewards', '/offers', '/stores', '/account', 'category'] as const;
const CATEGORIES = ['hot drinks', 'cold drinks', 'food', 'seasonal'];

function pageProperties(page: string): Properties {
  if (page.startsWith('/menu/item/')) return { page, screen: 'MenuItem' };
  if (page.startsWith('/menu/')) return { page, screen: 'MenuCategory' };
  return { page, screen: SCREENS[page] ?? 'Home' };
}

/** The page a session opens on: a campaign's own page, or the home screen. */
function landingPage(utm: Utm | undefined): string {
  if (utm?.campaign === 'double-rewards') return '/rewards';
  if (utm?.campaign === 'new-menu' || utm?.campaign === 'cloud-foam') return '/menu/seasonal';
  if (utm?.campaign === 'friday-treat') return '/offers';
  return '/';
}

/**
 * One visit to the app: what a funnel (page_view → add_to_cart → purchase) is built from. About a
 * third of sessions reach the cart, two thirds of those check out, and most checkouts order.
 */
export function appSession(
  rng: Rng,
  options: SessionOptions,
  add: (at: number, event: AppEvent) => void,
): void {
  const { key, users, seen, outage, socialPost } = options;
  const visitor = visitorOf(rng, users);
  const { user } = visitor;
  const { utm, postId } = arrivalOf(rng, socialPost);
  let at = options.start;
  let count = 0;
  // The campaign's utm rides on the session's first two events (the open and its landing page).
  const emit = (name: string, properties: Properties, person?: Partial<AppEvent>) => {
    const first = count < 2;
    add(at, {
      id: `${key}:${++count}`,
      type: 'app',
      platform: 'app',
      accountId: APP_ACCOUNT_ID,
      occurredAt: iso(at),
      name,
      ...(user ? { userId: user.id } : {}),
      sessionId: key,
      ...(first && postId !== undefined ? { postId } : {}),
      properties: {
        ...properties,
        country: visitor.country,
        device: visitor.device,
        ...(first && utm ? { utm } : {}),
      },
      ...person,
    });
    at += intBetween(rng, 4_000, 60_000);
  };

  const firstVisit = user !== undefined && !seen.has(user.id);
  if (user) seen.add(user.id);
  emit(
    'app_open',
    {
      source: utm ? utm.medium : 'icon',
      ...(visitor.device.os === 'web' ? {} : { appVersion: appVersion(rng) }),
    },
    user ? personOf(user, firstVisit ? at : undefined) : undefined,
  );
  const landing = landingPage(utm);
  emit('page_view', pageProperties(landing));

  const appetite = Math.min(0.9, visitor.appetite * (utm ? 1.25 : 1));
  if (!chance(rng, appetite)) {
    browse(rng, landing, emit);
    return;
  }
  const cart = fillCart(rng, landing, utm?.campaign === 'cloud-foam', emit);
  emit('page_view', pageProperties('/cart'));
  // Signed out, the cart asks for a sign-in, and most leave there.
  if (!user || !chance(rng, 0.68)) return;
  checkout(rng, { key, cart, outage, favouriteStore: user.favouriteStore }, emit);
}

function appVersion(rng: Rng): string {
  return pickWeighted(rng, { '4.12.0': 6, '4.11.2': 3, '4.10.5': 1 });
}

/** What a user's sign-in sets, and on their first session what is set only once. */
function personOf(user: AppUser, firstSeen: number | undefined): Partial<AppEvent> {
  const set: PersonProperties = { plan: user.plan, favouriteStore: user.favouriteStore };
  if (firstSeen === undefined) return { set };
  return { set, setOnce: { firstSeen: iso(firstSeen), signupSource: user.signupSource } };
}

type Emit = (name: string, properties: Properties, person?: Partial<AppEvent>) => void;

/** A look around without ordering: a few pages, often none. */
function browse(rng: Rng, landing: string, emit: Emit): void {
  const pages = pickWeighted(rng, { '0': 3, '1': 4, '2': 2, '3': 1 });
  let previous = landing;
  for (let i = 0; i < Number(pages); i++) {
    const next = pick(rng, BROWSE);
    const page = next === 'category' ? `/menu/${slug(pick(rng, CATEGORIES))}` : next;
    if (page === previous) continue;
    emit('page_view', pageProperties(page));
    previous = page;
  }
}

interface Cart {
  total: number;
  items: number;
  products: string[];
}

/** One to three menu items, each opened from its category and added to the cart. */
function fillCart(rng: Rng, landing: string, cloudFoam: boolean, emit: Emit): Cart {
  const cart: Cart = { total: 0, items: 0, products: [] };
  const lines = pickWeighted(rng, { '1': 6, '2': 3, '3': 1 });
  let previous = landing;
  for (let i = 0; i < Number(lines); i++) {
    const [item, price, category] =
      i === 0 && cloudFoam && chance(rng, 0.6) ? MENU[0]! : pick(rng, MENU);
    const categoryPage = `/menu/${slug(category)}`;
    if (previous !== categoryPage && chance(rng, 0.7))
      emit('page_view', pageProperties(categoryPage));
    emit('page_view', pageProperties(`/menu/item/${slug(item)}`));
    previous = categoryPage;
    const quantity = chance(rng, 0.85) ? 1 : 2;
    cart.total += price * quantity;
    cart.items += quantity;
    cart.products.push(item);
    emit('add_to_cart', { item, category, price, quantity });
  }
  cart.total = Math.round(cart.total * 100) / 100;
  return cart;
}

interface Checkout {
  key: string;
  cart: Cart;
  outage: boolean;
  favouriteStore: string;
}

/** Checkout and, mostly, the order: its revenue is the cart's total. */
function checkout(rng: Rng, { key, cart, outage, favouriteStore }: Checkout, emit: Emit): void {
  const store = chance(rng, 0.75) ? favouriteStore : pick(rng, STORES);
  emit('checkout_started', { cartValue: cart.total, items: cart.items, store });
  if (outage && chance(rng, 0.8)) {
    emit('checkout_failed', { reason: 'payment_timeout', store, cartValue: cart.total });
    return;
  }
  if (!chance(rng, 0.86)) return;
  const orderId = `${key}:order`;
  emit('purchase', {
    orderId,
    revenue: cart.total,
    currency: 'USD',
    items: cart.items,
    products: cart.products,
    store,
    pickup: pickWeighted(rng, { counter: 6, 'drive-thru': 3, delivery: 1 }),
    payment: pickWeighted(rng, { card: 5, wallet: 4, 'gift card': 1 }),
  });
  if (chance(rng, 0.12)) {
    const [reward, stars] = pick(rng, REWARDS);
    emit('reward_redeemed', { reward, stars, orderId });
  }
}

/**
 * A single app event for the live trickle: events of the sessions going on now, each user's
 * session being their events of the same half hour. Mostly page views, now and then a purchase.
 */
export function liveAppEvent(rng: Rng, id: string, at: number, pool: AppUserPool): AppEvent {
  const visitor = visitorOf(rng, pool);
  const { user } = visitor;
  const name = pickWeighted(rng, {
    app_open: 20,
    page_view: 52,
    add_to_cart: 13,
    checkout_started: 6,
    purchase: 5,
    reward_redeemed: 1,
  });
  const session = user ? `${user.id}:${Math.floor(at / (30 * MINUTE))}` : id;
  const utm: Utm | undefined =
    name === 'app_open' && chance(rng, 0.15)
      ? { source: 'push', medium: 'push', campaign: pick(rng, CAMPAIGNS) }
      : undefined;
  return {
    id,
    type: 'app',
    platform: 'app',
    accountId: APP_ACCOUNT_ID,
    occurredAt: iso(at),
    name,
    ...(user ? { userId: user.id } : {}),
    sessionId: `live:${session}`,
    properties: {
      ...liveProperties(rng, name, id, visitor),
      country: visitor.country,
      device: visitor.device,
      ...(utm ? { utm } : {}),
    },
    // Set-once keeps the earliest by event time, so a live first-seen never overrides history's.
    ...(user && name === 'app_open' ? personOf(user, at) : {}),
  };
}

/**
 * Live app events per second at a local hour, on the history's daily cycle. Livelier than the
 * history (about 0.02 a second) so that live tiles visibly move.
 */
export function liveAppRate(localHour: number): number {
  const peak = Math.max(...SESSION_HOURS);
  return 0.1 + 0.9 * ((SESSION_HOURS[localHour] ?? 0) / peak);
}

function liveProperties(rng: Rng, name: string, id: string, visitor: Visitor): Properties {
  const [item, price, category] = pick(rng, MENU);
  const store = visitor.user?.favouriteStore ?? pick(rng, STORES);
  switch (name) {
    case 'app_open':
      return visitor.device.os === 'web'
        ? { source: 'icon' }
        : { source: 'icon', appVersion: '4.12.0' };
    case 'page_view':
      return pageProperties(
        pickWeighted(rng, {
          '/': 3,
          '/menu': 3,
          [`/menu/${slug(category)}`]: 3,
          [`/menu/item/${slug(item)}`]: 3,
          '/rewards': 1,
          '/cart': 2,
        }),
      );
    case 'add_to_cart':
      return { item, category, price, quantity: 1 };
    case 'checkout_started':
      return { cartValue: price, items: 1, store };
    case 'purchase':
      return {
        orderId: `${id}:order`,
        revenue: price,
        currency: 'USD',
        items: 1,
        products: [item],
        store,
        pickup: 'counter',
        payment: 'wallet',
      };
    default:
      return { reward: 'free drink', stars: 150 };
  }
}
