// The fake's accounts, made from a seed: the same spec always gives the same posts, counters,
// daily insights and demographics, and nothing is made before an account is first read, so a
// benchmark can register thousands of them for the cost of their specs.
import { hashText, seeded } from '../seeded-random.ts';

export type MetaKind = 'page' | 'instagram';
export type ProductType = 'FEED' | 'REELS' | 'STORY';
export type IgMediaType = 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM';
export type FbStatusType = 'added_photos' | 'added_video' | 'shared_story' | 'mobile_status_update';

/** A post's lifetime counters as the platform holds them. */
export interface PostCounters {
  likes: number;
  comments: number;
  shares: number;
  saves: number;
  views: number;
  reach: number;
}

export interface MetaPost {
  id: string;
  accountId: string;
  /** Epoch ms, whole seconds (Graph's times have no milliseconds). */
  createdAt: number;
  caption: string | undefined;
  permalink: string;
  mediaType: IgMediaType;
  productType: ProductType;
  statusType: FbStatusType;
  /** Privacy-filtered: it takes a slot of a page but is never returned. */
  hidden: boolean;
  counters: PostCounters;
}

export type Buckets = Record<string, number>;

export interface Demographics {
  age: Buckets;
  gender: Buckets;
  country: Buckets;
  city: Buckets;
}

export interface DayInsights {
  reach: number;
  views: number;
  likes: number;
  comments: number;
  shares: number;
  saves: number;
  accountsEngaged: number;
  follows: number;
  unfollows: number;
}

export interface MetaAccount {
  kind: MetaKind;
  id: string;
  username: string;
  name: string;
  followers: number;
  /** IG `follows_count`; Pages follow no one. */
  following: number;
  /** Page likes (`fan_count`); Page insights need 100 of them. */
  fans: number;
  createdAt: number;
  /** Posts (Page) or feed and reels media (IG), newest first, hidden ones included. */
  posts: MetaPost[];
  /** IG stories of the last 24 h. */
  stories: MetaPost[];
  demographics: Demographics;
  day(dayStart: number): DayInsights;
}

export interface AccountSpec {
  id?: string;
  username?: string;
  name?: string;
  followers?: number;
  following?: number;
  /** Posts spread back from the account's anchor time. */
  posts?: number;
  spanDays?: number;
  /** One post in this many is privacy-filtered; 0 for none. */
  hiddenEvery?: number;
  /** Stories (IG), one of them with fewer than 5 viewers. */
  stories?: number;
  seed?: number;
}

const DAY = 86_400_000;

const AGES = ['13-17', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'];
const AGE_SHARE = [0.04, 0.22, 0.31, 0.2, 0.12, 0.07, 0.04];
const GENDERS = ['F', 'M', 'U'];
const COUNTRIES = ['US', 'GB', 'FR', 'DE', 'BR', 'IN', 'ES', 'IT', 'CA', 'MX', 'JP', 'NL'];
const CITIES = [
  'London, England',
  'New York, New York',
  'Paris, Île-de-France',
  'Berlin, Berlin',
  'São Paulo, São Paulo',
  'Mumbai, Maharashtra',
  'Madrid, Comunidad de Madrid',
  'Toronto, Ontario',
];
const WORDS = ['launch', 'behind the scenes', 'new drop', 'thank you', 'weekend', 'recipe', 'tips'];

function split(total: number, keys: string[], rand: () => number, shares?: number[]): Buckets {
  const weights = keys.map((_, i) => (shares?.[i] ?? 1 / keys.length) * (0.7 + 0.6 * rand()));
  const sum = weights.reduce((a, b) => a + b, 0);
  const out: Buckets = {};
  keys.forEach((k, i) => {
    const v = Math.floor((total * weights[i]!) / sum);
    if (v > 0) out[k] = v;
  });
  return out;
}

function countersFor(followers: number, rand: () => number): PostCounters {
  const reach = Math.floor(followers * (0.05 + 0.4 * rand())) + 3;
  const views = Math.floor(reach * (1.1 + 2 * rand()));
  const likes = Math.floor(reach * (0.02 + 0.12 * rand()));
  return {
    reach,
    views,
    likes,
    comments: Math.floor(likes * 0.15 * rand()),
    shares: rand() < 0.3 ? 0 : Math.floor(likes * 0.1 * rand()),
    saves: Math.floor(likes * 0.2 * rand()),
  };
}

/** Makes the account `spec` describes, as it stands at `anchor` (epoch ms). */
export function generateAccount(
  kind: MetaKind,
  serial: number,
  spec: AccountSpec,
  anchor: number,
): MetaAccount {
  const seed = spec.seed ?? hashText(`${kind}|${serial}`);
  const rand = seeded(seed);
  const id = spec.id ?? (kind === 'page' ? `10${pad(serial, 10)}` : `17841${pad(serial, 10)}`);
  const username = spec.username ?? `${kind === 'page' ? 'page' : 'ig'}_${serial}`;
  const followers = spec.followers ?? 200 + Math.floor(rand() * 20_000);
  const count = spec.posts ?? 60;
  const spanMs = (spec.spanDays ?? 120) * DAY;
  const hiddenEvery = spec.hiddenEvery ?? 11;
  const base = Math.floor(anchor / 1000) * 1000;
  const posts: MetaPost[] = [];
  let at = base - 3_600_000 - Math.floor(rand() * 3_600) * 1000;
  for (let i = 0; i < count; i++) {
    const nativeId =
      kind === 'page' ? `${id}_${9_000_000 + i}` : `179${pad(serial, 7)}${pad(i, 6)}`;
    posts.push(makePost(kind, id, username, nativeId, at, followers, rand, i, hiddenEvery));
    // Now and then two posts share a second, so a resume by time must not skip the second one.
    const gap =
      rand() < 0.06 ? 0 : Math.floor((spanMs / Math.max(count, 1)) * (0.2 + 1.6 * rand()));
    at -= Math.floor(gap / 1000) * 1000;
  }
  const stories: MetaPost[] = [];
  for (let i = 0; i < (spec.stories ?? (kind === 'instagram' ? 2 : 0)); i++) {
    const story = makePost(
      kind,
      id,
      username,
      `180${pad(serial, 7)}${pad(i, 6)}`,
      base - (i + 1) * 3_600_000,
      followers,
      rand,
      i,
      0,
    );
    story.productType = 'STORY';
    // The first story is seen by fewer than 5 accounts: its insights are refused (A.5).
    if (i === 0) story.counters = { ...story.counters, reach: 3, views: 4 };
    stories.push(story);
  }
  const known = Math.floor(followers * 0.9);
  const rest = seeded(seed ^ 0x5bd1e995);
  return {
    kind,
    id,
    username,
    name: spec.name ?? `${kind === 'page' ? 'Page' : 'Creator'} ${serial}`,
    followers,
    following: kind === 'page' ? 0 : (spec.following ?? Math.floor(rand() * 900)),
    fans: Math.floor(followers * 0.95),
    createdAt: base - 3 * 365 * DAY,
    posts,
    stories,
    demographics: {
      age: split(known, AGES, rest, AGE_SHARE),
      gender: split(known, GENDERS, rest, [0.52, 0.44, 0.04]),
      country: split(known, COUNTRIES, rest),
      city: split(Math.floor(known * 0.6), CITIES, rest),
    },
    day: (dayStart) => dayInsights(seed, followers, dayStart),
  };
}

function makePost(
  kind: MetaKind,
  accountId: string,
  username: string,
  nativeId: string,
  createdAt: number,
  followers: number,
  rand: () => number,
  index: number,
  hiddenEvery: number,
): MetaPost {
  const pick = rand();
  const mediaType: IgMediaType = pick < 0.55 ? 'IMAGE' : pick < 0.8 ? 'VIDEO' : 'CAROUSEL_ALBUM';
  const productType: ProductType = mediaType === 'VIDEO' && rand() < 0.7 ? 'REELS' : 'FEED';
  const statusType: FbStatusType =
    pick < 0.45
      ? 'added_photos'
      : pick < 0.65
        ? 'added_video'
        : pick < 0.85
          ? 'shared_story'
          : 'mobile_status_update';
  const words = WORDS[Math.floor(rand() * WORDS.length)]!;
  const caption = rand() < 0.1 ? undefined : `Post ${index}: ${words} #${username}`;
  const permalink =
    kind === 'page'
      ? `https://www.facebook.com/${accountId}/posts/${nativeId.split('_')[1]}`
      : `https://www.instagram.com/p/${nativeId.slice(-8)}/`;
  return {
    id: nativeId,
    accountId,
    createdAt,
    caption,
    permalink,
    mediaType,
    productType,
    statusType,
    hidden: hiddenEvery > 0 && index % hiddenEvery === hiddenEvery - 1,
    counters: countersFor(followers, rand),
  };
}

function dayInsights(seed: number, followers: number, dayStart: number): DayInsights {
  const r = seeded(hashText(`${seed}|${dayStart}`));
  const reach = Math.floor(followers * (0.1 + 0.3 * r()));
  const likes = Math.floor(reach * 0.08 * r());
  const comments = Math.floor(likes * 0.2 * r());
  const shares = Math.floor(likes * 0.1 * r());
  const saves = Math.floor(likes * 0.15 * r());
  return {
    reach,
    views: Math.floor(reach * (1.5 + 2 * r())),
    likes,
    comments,
    shares,
    saves,
    accountsEngaged: Math.floor((likes + comments) * 0.8),
    follows: Math.floor(followers * 0.002 * r()),
    unfollows: Math.floor(followers * 0.001 * r()),
  };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
