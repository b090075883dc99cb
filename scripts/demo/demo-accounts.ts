// Who the demo tracks: Northwind Coffee (the customer) and five rival coffee brands, each on four
// social platforms, plus Northwind's own app. Sizes span three orders of magnitude on purpose.
import type { Platform } from '../../schema/event-envelope.ts';
import { rngFor, uniform } from './demo-random.ts';

export type SocialPlatform = Exclude<Platform, 'app'>;
export const SOCIAL_PLATFORMS: readonly SocialPlatform[] = ['facebook', 'instagram', 'x', 'tiktok'];

export interface DemoAccount {
  /** Stable and readable: `ig-northwind`, `x-rival-brew`, `app-northwind`. */
  id: string;
  platform: Platform;
  handle: string;
  displayName: string;
  /** Brand key shared by a brand's accounts: `northwind`, `rival-brew`, … */
  brand: string;
  /** False for Northwind, the organisation's own brand; true for the rivals it benchmarks. */
  competitor: boolean;
  /** Followers at the end of the history; null for the app, which has users, not followers. */
  followers: number | null;
}

export interface Brand {
  key: string;
  name: string;
  handle: string;
  hashtag: string;
  homeCity: string;
  competitor: boolean;
  /** Multiplies every platform's posting rate. */
  activity: number;
  /** Multiplies every platform's follower growth rate. */
  momentum: number;
  /** Mentions per day across platforms. */
  mentionsPerDay: number;
  followers: Record<SocialPlatform, number>;
  products: readonly string[];
}

export const BRANDS: readonly Brand[] = [
  {
    key: 'northwind',
    name: 'Northwind Coffee',
    handle: 'northwindcoffee',
    hashtag: 'NorthwindCoffee',
    homeCity: 'Seattle',
    competitor: false,
    activity: 1,
    momentum: 1.4,
    mentionsPerDay: 6,
    followers: { facebook: 310_000, instagram: 540_000, x: 96_000, tiktok: 1_300_000 },
    products: ['Cloud Foam Latte', 'Northwind Cold Brew', 'Maple Oat Latte', 'Sound Fog'],
  },
  {
    key: 'rival-brew',
    name: 'Rival Brew Co.',
    handle: 'rivalbrewco',
    hashtag: 'RivalBrew',
    homeCity: 'New York',
    competitor: true,
    activity: 1.2,
    momentum: 1,
    mentionsPerDay: 9,
    followers: { facebook: 1_900_000, instagram: 2_400_000, x: 610_000, tiktok: 3_100_000 },
    products: ['Midtown Brew', 'Rival Roast', 'Caramel Cloud', 'Nitro Rush'],
  },
  {
    key: 'harbor',
    name: 'Harbor Roasters',
    handle: 'harborroasters',
    hashtag: 'HarborRoasters',
    homeCity: 'Boston',
    competitor: true,
    activity: 0.7,
    momentum: 0.8,
    mentionsPerDay: 1.5,
    followers: { facebook: 84_000, instagram: 120_000, x: 22_000, tiktok: 41_000 },
    products: ['Lighthouse Blend', 'Harbor Mocha', 'Fog Horn Espresso'],
  },
  {
    key: 'summit',
    name: 'Summit Espresso Bar',
    handle: 'summitespresso',
    hashtag: 'SummitEspresso',
    homeCity: 'Denver',
    competitor: true,
    activity: 0.6,
    momentum: 1.5,
    mentionsPerDay: 1,
    followers: { facebook: 36_000, instagram: 58_000, x: 9_400, tiktok: 150_000 },
    products: ['Peak Cortado', 'Trailhead Cold Brew', 'Alpine Honey Latte'],
  },
  {
    key: 'bluebird',
    name: 'Bluebird Café',
    handle: 'bluebirdcafe',
    hashtag: 'BluebirdCafe',
    homeCity: 'Portland',
    competitor: true,
    activity: 0.5,
    momentum: 2,
    mentionsPerDay: 0.6,
    followers: { facebook: 12_000, instagram: 31_000, x: 2_600, tiktok: 8_800 },
    products: ['Lavender Latte', 'Bluebird Pour-Over', 'Morning Bun'],
  },
  {
    key: 'copper-kettle',
    name: 'Copper Kettle Coffee',
    handle: 'copperkettleco',
    hashtag: 'CopperKettle',
    homeCity: 'Austin',
    competitor: true,
    activity: 0.3,
    momentum: 0.5,
    mentionsPerDay: 0.3,
    followers: { facebook: 6_100, instagram: 14_000, x: 1_100, tiktok: 3_400 },
    products: ['Kettle Drip', 'Pecan Praline Latte', 'Breakfast Taco'],
  },
];

export const MAIN_BRAND = 'northwind';
export const DEFAULT_SEED = 42;
export const APP_ACCOUNT_ID = 'app-northwind';

export const PLATFORM_PREFIX: Record<Platform, string> = {
  facebook: 'fb',
  instagram: 'ig',
  x: 'x',
  tiktok: 'tt',
  app: 'app',
};

/** What a platform is like for a brand account: cadence, audience growth, API shape. */
export interface PlatformProfile {
  postsPerDay: number;
  /** Daily follower growth rate before the brand's momentum. */
  growth: number;
  following: [number, number];
  /** Posts published before the demo window, per unit of brand activity. */
  priorPosts: [number, number];
}

export const PLATFORM_PROFILES: Record<SocialPlatform, PlatformProfile> = {
  facebook: { postsPerDay: 0.5, growth: 0.0001, following: [5, 60], priorPosts: [1200, 3400] },
  instagram: { postsPerDay: 0.6, growth: 0.0007, following: [150, 900], priorPosts: [900, 2600] },
  x: { postsPerDay: 1, growth: -0.0001, following: [200, 1500], priorPosts: [4000, 15000] },
  tiktok: { postsPerDay: 0.45, growth: 0.0022, following: [10, 120], priorPosts: [150, 600] },
};

/** The demo's accounts; the seed nudges follower counts (±10%) so seeds differ visibly. */
export function demoAccounts(seed = DEFAULT_SEED): DemoAccount[] {
  const accounts: DemoAccount[] = [];
  for (const brand of BRANDS) {
    for (const platform of SOCIAL_PLATFORMS) {
      const id = `${PLATFORM_PREFIX[platform]}-${brand.key}`;
      const rng = rngFor(seed, `${id}|followers`);
      accounts.push({
        id,
        platform,
        handle: brand.handle,
        displayName: brand.name,
        brand: brand.key,
        competitor: brand.competitor,
        followers: Math.round(brand.followers[platform] * uniform(rng, 0.9, 1.1)),
      });
    }
  }
  accounts.push({
    id: APP_ACCOUNT_ID,
    platform: 'app',
    handle: 'northwind-app',
    displayName: 'Northwind Coffee app',
    brand: MAIN_BRAND,
    competitor: false,
    followers: null,
  });
  return accounts;
}

export function brandOf(account: DemoAccount): Brand {
  const brand = BRANDS.find((b) => b.key === account.brand);
  if (!brand) throw new Error(`unknown demo brand ${account.brand}`);
  return brand;
}
