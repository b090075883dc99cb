// Campaign hashtags, so hashtag trends have something to find: one catching on over the last weeks
// of the history (Northwind's Cloud Foam launch) and one fading out (Rival Brew's Nitro Rush promo).
// Each is a function of how many days before the history's end a post goes out.

export interface Campaign {
  /** As written in captions; stored lower-cased. */
  tag: string;
  brand: string;
  /** Share of the brand's posts that carry the tag, by days before the end of the history. */
  share: (daysAgo: number) => number;
  /** Engagement per viewer of a tagged post, against an untagged one. */
  appeal: (daysAgo: number) => number;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export const CAMPAIGNS: readonly Campaign[] = [
  {
    // Launched 45 days ago, on more of the brand's posts every week, and better liked as it spreads.
    tag: '#CloudFoam',
    brand: 'northwind',
    share: (d) => (d > 45 ? 0 : 0.9 * clamp01((46 - d) / 40)),
    appeal: (d) => 1 + 0.5 * clamp01((45 - d) / 45),
  },
  {
    // Everywhere two months ago, winding down since, and people have tired of it.
    tag: '#NitroRush',
    brand: 'rival-brew',
    share: (d) => 0.05 + 0.55 * clamp01((d - 10) / 50),
    appeal: (d) => 0.6 + 0.6 * clamp01((d - 10) / 60),
  },
];

/** The campaigns a brand's post carries, drawn with `draw` (uniform in [0, 1)). */
export function campaignsOf(brand: string, daysAgo: number, draw: () => number): Campaign[] {
  const d = Math.max(0, daysAgo);
  return CAMPAIGNS.filter((c) => c.brand === brand && draw() < c.share(d));
}
