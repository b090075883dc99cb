// The post model both the history and the live traffic read: when each account posts, what each
// post finally earns, and how a lifetime total climbs towards that figure as the post ages.
// Every post is a pure function of (seed, account, local day), so both sides agree on it.
import type { EventInput } from '../../schema/event-envelope.ts';
import {
  PLATFORM_PROFILES,
  brandOf,
  type Brand,
  type DemoAccount,
  type SocialPlatform,
} from './demo-accounts.ts';
import {
  chance,
  logNormal,
  poisson,
  rngFor,
  uniform,
  weightedPicker,
  type Rng,
} from './demo-random.ts';
import { editedCaption, postCaption } from './demo-texts.ts';
import { slotAppeal } from './demo-timing.ts';
import { campaignsOf } from './demo-trends.ts';

export type EngagementMetric = Extract<EventInput, { type: 'engagement' }>['metric'];
export type MediaType = NonNullable<Extract<EventInput, { type: 'post' }>['mediaType']>;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The brands live on US Eastern time; a fixed offset keeps the demo free of DST edge cases. */
const LOCAL_OFFSET = 5 * HOUR;

/** Days since the epoch in the brands' local time. */
export function localDayOf(ms: number): number {
  return Math.floor((ms - LOCAL_OFFSET) / DAY);
}
export function localDayStart(day: number): number {
  return day * DAY + LOCAL_OFFSET;
}
/** 0 = Sunday; the epoch was a Thursday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}
const stamps = new Map<number, string>();
/** `20251120` for a day; memoised, as every id of the day carries it. */
export function ymd(day: number): string {
  let stamp = stamps.get(day);
  if (stamp === undefined) {
    stamp = new Date(day * DAY).toISOString().slice(0, 10).replaceAll('-', '');
    stamps.set(day, stamp);
  }
  return stamp;
}
const dayPrefixes = new Map<number, string>();
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
/**
 * `Date#toISOString`, from a memoised date prefix: formatting timestamps was a fifth of the
 * generation time.
 */
export function iso(ms: number): string {
  const utcDay = Math.floor(ms / DAY);
  let prefix = dayPrefixes.get(utcDay);
  if (prefix === undefined) {
    prefix = new Date(utcDay * DAY).toISOString().slice(0, 11);
    dayPrefixes.set(utcDay, prefix);
  }
  const t = ms - utcDay * DAY;
  const hh = pad2(Math.floor(t / HOUR));
  const mm = pad2(Math.floor(t / MINUTE) % 60);
  const ss = pad2(Math.floor(t / 1000) % 60);
  return `${prefix}${hh}:${mm}:${ss}.${String(t % 1000).padStart(3, '0')}Z`;
}

function mapPlatforms<T>(f: (platform: SocialPlatform) => T): Record<SocialPlatform, T> {
  return { facebook: f('facebook'), instagram: f('instagram'), x: f('x'), tiktok: f('tiktok') };
}

/** A social account with what the model needs about it. */
export interface AccountModel {
  account: DemoAccount;
  platform: SocialPlatform;
  brand: Brand;
  followers: number;
}

export function accountModels(accounts: readonly DemoAccount[]): AccountModel[] {
  const models: AccountModel[] = [];
  for (const account of accounts) {
    if (account.platform === 'app' || account.followers === null) continue;
    models.push({
      account,
      platform: account.platform,
      brand: brandOf(account),
      followers: account.followers,
    });
  }
  return models;
}

export interface DemoPost {
  id: string;
  model: AccountModel;
  publishedAt: number;
  mediaType: MediaType;
  content: string;
  url: string;
  /** Lifetime figures the post tends to; totals read from the API climb towards them. */
  finals: Partial<Record<EngagementMetric, number>>;
  /** Link clicks, which arrive as webhook deltas rather than totals. */
  clicks: number;
  /** An outlier the algorithm kept pushing. */
  viral: boolean;
  fastShare: number;
  fastHours: number;
  slowHours: number;
  edit?: { at: number; content: string };
}

// Brands post less at weekends; weekday indexes start on Sunday.
const POSTING_BY_WEEKDAY = [0.5, 1.1, 1.15, 1.15, 1.1, 1, 0.6];
/** Local posting hours with weights: social teams post around commutes, lunch and evenings. */
const POSTING_HOURS: Record<SocialPlatform, Record<number, number>> = {
  facebook: { 8: 2, 9: 3, 10: 3, 12: 3, 13: 2, 15: 2, 18: 1 },
  instagram: { 7: 1, 11: 3, 12: 3, 17: 2, 18: 3, 19: 3, 20: 2 },
  x: { 7: 3, 8: 3, 9: 2, 11: 2, 12: 2, 14: 2, 16: 2, 18: 2, 20: 1 },
  tiktok: { 12: 1, 16: 1, 18: 3, 19: 3, 20: 3, 21: 2 },
};
const MEDIA: Record<SocialPlatform, Partial<Record<MediaType, number>>> = {
  facebook: { image: 5, video: 2, link: 2, text: 1 },
  instagram: { image: 4, carousel: 3, video: 3 },
  x: { text: 4, image: 3, link: 2, video: 1 },
  tiktok: { video: 1 },
};
const pickPostingHour = mapPlatforms((p) =>
  weightedPicker(Object.entries(POSTING_HOURS[p]).map(([h, w]) => [Number(h), w] as const)),
);
const pickMedia = mapPlatforms((p) =>
  weightedPicker(Object.entries(MEDIA[p]) as [MediaType, number][]),
);
/** Share of followers a typical post reaches (TikTok views, X impressions), and its spread. */
const AUDIENCE_RATE: Record<SocialPlatform, { rate: number; sigma: number }> = {
  facebook: { rate: 0.04, sigma: 0.5 },
  instagram: { rate: 0.2, sigma: 0.5 },
  x: { rate: 0.06, sigma: 0.6 },
  tiktok: { rate: 0.15, sigma: 1 },
};
const MEDIA_BOOST: Partial<Record<MediaType, number>> = { video: 1.3, text: 0.7, link: 0.6 };
const CLICK_RATE: Record<MediaType, number> = {
  link: 0.012,
  video: 0.004,
  image: 0.002,
  carousel: 0.002,
  text: 0.001,
};

/** What each platform's API reports per post. */
export function metricsOf(post: DemoPost): EngagementMetric[] {
  return Object.keys(post.finals) as EngagementMetric[];
}

function finalsFor(
  rng: Rng,
  platform: SocialPlatform,
  mediaType: MediaType,
  audience: number,
  appeal: number,
): { finals: Partial<Record<EngagementMetric, number>>; clicks: number } {
  const r = Math.round;
  const video = mediaType === 'video';
  switch (platform) {
    case 'facebook': {
      const likes = audience * appeal * 0.035 * logNormal(rng, 0.3);
      return {
        finals: {
          reach: r(audience),
          impressions: r(audience * uniform(rng, 1.15, 1.5)),
          likes: r(likes),
          comments: r(likes * 0.07 * logNormal(rng, 0.4)),
          shares: r(likes * 0.1 * logNormal(rng, 0.4)),
          ...(video ? { views: r(audience * 0.55 * logNormal(rng, 0.2)) } : {}),
        },
        clicks: r(audience * CLICK_RATE[mediaType]),
      };
    }
    case 'instagram': {
      const likes = audience * appeal * 0.045 * logNormal(rng, 0.3);
      return {
        finals: {
          reach: r(audience),
          impressions: r(audience * uniform(rng, 1.2, 1.7)),
          likes: r(likes),
          comments: r(likes * 0.02 * logNormal(rng, 0.5)),
          shares: r(likes * 0.04 * logNormal(rng, 0.4)),
          saves: r(likes * (mediaType === 'carousel' ? 0.1 : 0.05) * logNormal(rng, 0.4)),
          ...(video ? { views: r(audience * 1.9 * logNormal(rng, 0.2)) } : {}),
        },
        clicks: 0,
      };
    }
    case 'x': {
      const likes = audience * appeal * 0.009 * logNormal(rng, 0.35);
      return {
        finals: {
          impressions: r(audience),
          likes: r(likes),
          comments: r(likes * 0.12 * logNormal(rng, 0.4)),
          shares: r(likes * 0.18 * logNormal(rng, 0.4)),
          saves: r(likes * 0.06 * logNormal(rng, 0.4)),
        },
        clicks: r(audience * (mediaType === 'link' ? 0.008 : 0.0012)),
      };
    }
    case 'tiktok': {
      const likes = audience * appeal * 0.065 * logNormal(rng, 0.3);
      return {
        finals: {
          views: r(audience),
          likes: r(likes),
          comments: r(likes * 0.015 * logNormal(rng, 0.4)),
          shares: r(likes * 0.04 * logNormal(rng, 0.5)),
          saves: r(likes * 0.05 * logNormal(rng, 0.4)),
        },
        clicks: 0,
      };
    }
  }
}

/** How fast each platform's posts burn out: X in hours, TikTok over days. */
function curveFor(rng: Rng, platform: SocialPlatform, viral: boolean) {
  const [share, fast, slow] = {
    facebook: [
      [0.75, 0.9],
      [4, 9],
      [36, 96],
    ],
    instagram: [
      [0.8, 0.9],
      [5, 10],
      [36, 96],
    ],
    x: [
      [0.85, 0.95],
      [1.5, 5],
      [24, 72],
    ],
    tiktok: [
      [0.55, 0.8],
      [10, 24],
      [48, 144],
    ],
  }[platform] as [[number, number], [number, number], [number, number]];
  const curve = {
    fastShare: uniform(rng, share[0], share[1]),
    fastHours: uniform(rng, fast[0], fast[1]),
    slowHours: uniform(rng, slow[0], slow[1]),
  };
  // A viral post keeps being pushed by the algorithm for days.
  return viral
    ? { fastShare: 0.5, fastHours: curve.fastHours * 2.5, slowHours: curve.slowHours }
    : curve;
}

function makePost(
  seed: number,
  model: AccountModel,
  day: number,
  index: number,
  publishedAt: number,
  viral: number,
  daysAgo: number,
): DemoPost {
  const id = `${model.account.id}-${ymd(day)}-${index}`;
  const rng = rngFor(seed, id);
  const { platform, brand } = model;
  // Viral outliers stay off campaigns, so a trend is the campaign's own and not one lucky post.
  const campaigns =
    viral > 1 ? [] : campaignsOf(brand.key, daysAgo, rngFor(seed, `${id}|campaigns`));
  const media = pickMedia[platform](rng);
  const content = postCaption(
    rng,
    { brand, platform, campaignTags: campaigns.map((c) => c.tag) },
    media === 'link',
  );
  const { rate, sigma } = AUDIENCE_RATE[platform];
  const audience =
    model.followers * rate * logNormal(rng, sigma) * (MEDIA_BOOST[media] ?? 1) * viral;
  // The audience engages more in some local slots, and more (or less) with a campaign's tag.
  const appeal = campaigns.reduce((a, c) => a * c.appeal(daysAgo), slotAppeal(publishedAt));
  const { finals, clicks } = finalsFor(rng, platform, media, audience, appeal);
  const post: DemoPost = {
    id,
    model,
    publishedAt,
    mediaType: media,
    content,
    url: `https://${platform}.example/${model.account.handle}/posts/${id}`,
    finals,
    clicks,
    viral: viral > 1,
    ...curveFor(rng, platform, viral > 1),
  };
  if (chance(rng, 0.05)) {
    post.edit = {
      at: publishedAt + Math.round(uniform(rng, 10 * MINUTE, 3 * HOUR)),
      content: editedCaption(rng, content),
    };
  }
  return post;
}

/**
 * The posts an account publishes on a local day, in time order. `endDay` is the local day the
 * history ends on (campaigns run relative to it; the day itself when omitted); `minCount` forces a
 * post on a day the history has plans for; `viral` multiplies the first post's reach.
 */
export function postsOfDay(
  seed: number,
  model: AccountModel,
  day: number,
  options: { endDay?: number; minCount?: number; viral?: number } = {},
): DemoPost[] {
  const rng = rngFor(seed, `${model.account.id}|posts|${day}`);
  const mean =
    PLATFORM_PROFILES[model.platform].postsPerDay *
    model.brand.activity *
    (POSTING_BY_WEEKDAY[weekdayOf(day)] ?? 1);
  const count = Math.max(poisson(rng, mean), options.minCount ?? 0);
  const daysAgo = (options.endDay ?? day) - day;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const hour = pickPostingHour[model.platform](rng);
    times.push(localDayStart(day) + hour * HOUR + Math.floor(rng() * HOUR));
  }
  times.sort((a, b) => a - b);
  return times.map((t, i) =>
    makePost(seed, model, day, i + 1, t, i === 0 ? (options.viral ?? 1) : 1, daysAgo),
  );
}

/** Share of its final figures a post has reached at an age: a fast burst, then a long tail. */
export function reachedAt(post: DemoPost, at: number): number {
  const hours = (at - post.publishedAt) / HOUR;
  if (hours <= 0) return 0;
  return (
    post.fastShare * (1 - Math.exp(-hours / post.fastHours)) +
    (1 - post.fastShare) * (1 - Math.exp(-hours / post.slowHours))
  );
}

/** The lifetime total an API would answer at `at`; never decreases as `at` grows. */
export function totalAt(final: number, reached: number): number {
  return Math.floor(final * reached);
}

/** When the poller reads a post's totals: hourly for a day, then daily up to two weeks. */
export const POLLS: readonly { label: string; after: number }[] = [
  ...Array.from({ length: 24 }, (_, i) => ({
    label: `h${String(i + 1).padStart(2, '0')}`,
    after: (i + 1) * HOUR,
  })),
  ...Array.from({ length: 13 }, (_, i) => ({
    label: `d${String(i + 2).padStart(2, '0')}`,
    after: (i + 2) * DAY,
  })),
];

/** Hours after publication during which click webhooks arrive (summed per hour). */
export const CLICK_WEBHOOK_HOURS = 48;
