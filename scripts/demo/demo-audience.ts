// Daily audience snapshots: shares (each dimension sums to 1) skewed the way each platform's
// audience is, shifted towards each brand's home city, drifting a little from day to day.
import type { EventInput } from '../../schema/event-envelope.ts';
import type { Brand, SocialPlatform } from './demo-accounts.ts';
import { normal, type Rng } from './demo-random.ts';

type Buckets = Record<string, number>;
type AudienceEvent = Extract<EventInput, { type: 'audience' }>;

const AGES = ['13-17', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'];
const AGE_SHARES: Record<SocialPlatform, readonly number[]> = {
  tiktok: [0.09, 0.38, 0.29, 0.13, 0.07, 0.03, 0.01],
  instagram: [0.03, 0.29, 0.34, 0.18, 0.09, 0.05, 0.02],
  x: [0.02, 0.19, 0.35, 0.22, 0.12, 0.07, 0.03],
  facebook: [0.01, 0.1, 0.24, 0.23, 0.19, 0.14, 0.09],
};
const GENDER_SHARES: Record<SocialPlatform, Buckets> = {
  tiktok: { female: 0.55, male: 0.43, unknown: 0.02 },
  instagram: { female: 0.57, male: 0.41, unknown: 0.02 },
  x: { female: 0.38, male: 0.6, unknown: 0.02 },
  facebook: { female: 0.54, male: 0.44, unknown: 0.02 },
};
const COUNTRY_SHARES: Buckets = { US: 0.74, CA: 0.08, GB: 0.04, MX: 0.03, AU: 0.02, other: 0.09 };
const CITIES = ['New York', 'Los Angeles', 'Chicago', 'Seattle', 'Boston', 'Denver', 'Portland'];
const INTERESTS: Record<SocialPlatform, Buckets> = {
  tiktok: {
    coffee: 0.2,
    'food & drink': 0.18,
    music: 0.16,
    fashion: 0.12,
    gaming: 0.1,
    fitness: 0.1,
    travel: 0.08,
    books: 0.06,
  },
  instagram: {
    coffee: 0.24,
    'food & drink': 0.2,
    travel: 0.14,
    fashion: 0.12,
    fitness: 0.1,
    music: 0.08,
    books: 0.07,
    parenting: 0.05,
  },
  x: {
    coffee: 0.22,
    technology: 0.2,
    news: 0.16,
    'food & drink': 0.12,
    sports: 0.1,
    music: 0.08,
    books: 0.07,
    gaming: 0.05,
  },
  facebook: {
    coffee: 0.22,
    'food & drink': 0.2,
    parenting: 0.14,
    travel: 0.12,
    outdoors: 0.1,
    news: 0.09,
    books: 0.07,
    fitness: 0.06,
  },
};

/** Multiplies each share by a little noise and normalises back to 1, to 4 decimals. */
function drift(rng: Rng, base: Buckets, sigma: number): Buckets {
  const noisy = Object.entries(base).map(
    ([k, v]) => [k, v * Math.exp(sigma * normal(rng))] as const,
  );
  const sum = noisy.reduce((s, [, v]) => s + v, 0);
  return Object.fromEntries(noisy.map(([k, v]) => [k, Math.round((v / sum) * 10_000) / 10_000]));
}

function cityShares(brand: Brand): Buckets {
  // A brand's home city holds a big slice; the rest spreads over big US cities and 'other'.
  const shares: Buckets = { [brand.homeCity]: 0.22 };
  for (const city of CITIES) if (city !== brand.homeCity) shares[city] = 0.035;
  const named = Object.values(shares).reduce((s, v) => s + v, 0);
  shares.other = 1 - named;
  return shares;
}

export function audienceSnapshot(
  rng: Rng,
  common: Pick<AudienceEvent, 'id' | 'platform' | 'accountId' | 'occurredAt'>,
  platform: SocialPlatform,
  brand: Brand,
): AudienceEvent {
  const ages = Object.fromEntries(AGES.map((a, i) => [a, AGE_SHARES[platform][i] ?? 0]));
  return {
    ...common,
    type: 'audience',
    age: drift(rng, ages, 0.04),
    gender: drift(rng, GENDER_SHARES[platform], 0.02),
    country: drift(rng, COUNTRY_SHARES, 0.05),
    city: drift(rng, cityShares(brand), 0.05),
    interests: drift(rng, INTERESTS[platform], 0.06),
  };
}
