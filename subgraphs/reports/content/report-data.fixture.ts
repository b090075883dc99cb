// A synthetic report of any size, for rendering tests and the PDF benchmark: deterministic values
// over local days of a zone, with a competitor set and posts whose text needs quoting.
import { DateTime } from 'luxon';
import type { MetricName, Platform } from '../../../schema/event-envelope.ts';
import { compareMembers } from './competitor-comparison.ts';
import type { ReportData, ReportPost } from './report-data.ts';

const PLATFORMS: Platform[] = ['instagram', 'facebook', 'x', 'tiktok'];
export const FIXTURE_METRICS: MetricName[] = [
  'likes',
  'comments',
  'shares',
  'saves',
  'views',
  'impressions',
  'reach',
  'clicks',
  'engagements',
  'followers',
];

export function sampleReport({
  accounts = 3,
  metrics = 4,
  days = 7,
  timeZone = 'America/Los_Angeles',
  start = '2026-10-29',
} = {}): ReportData {
  const from = DateTime.fromISO(start, { zone: timeZone }).startOf('day');
  const edges = Array.from({ length: days + 1 }, (_, i) => from.plus({ days: i }).toMillis());
  const range = { from: edges[0]!, to: edges.at(-1)! };
  const previous = { from: from.minus({ days }).toMillis(), to: range.from };
  const list = Array.from({ length: accounts }, (_, k) => ({
    id: `acct-${k + 1}`,
    platform: PLATFORMS[k % PLATFORMS.length]!,
    name: k === 0 ? 'Northwind Outdoor, Official & Long Name Account' : `brand_${k + 1}`,
  }));
  const chosen = FIXTURE_METRICS.slice(0, metrics);
  const summaries = list.flatMap((a, k) =>
    chosen.map((metric, m) => {
      const buckets = edges.slice(0, -1).map((s, i) => ({
        start: s,
        end: edges[i + 1]!,
        value: Math.round((k + 1) * (m + 2) * 40 + 120 * Math.sin((i + k) / 2) + 130),
      }));
      const total = buckets.reduce((sum, b) => sum + b.value, 0);
      const previousTotal = k === 1 ? 0 : Math.round(total * (0.8 + 0.1 * (m % 4)));
      const change = total - previousTotal;
      return {
        accountId: a.id,
        metric,
        total,
        previousTotal,
        change,
        changePercent: previousTotal === 0 ? null : (change / previousTotal) * 100,
        buckets,
      };
    }),
  );
  const topPosts: ReportPost[] = Array.from({ length: Math.min(10, accounts * 3) }, (_, i) => {
    const content =
      i === 0
        ? 'Launch day, finally: "Cloudfoam" is here,\nwith free shipping & returns — #cloudfoam #launch'
        : `Post ${i + 1} of the week, with a line of text long enough to wrap across the width of the page so the excerpt is cut where it no longer fits the box. #sale`;
    const excerpt = content.replace(/\s+/gu, ' ');
    return {
      id: `post-${i + 1}`,
      accountId: list[i % list.length]!.id,
      platform: list[i % list.length]!.platform,
      publishedAt: range.from + (i + 1) * 3_600_000 * 7,
      excerpt,
      content,
      mediaType: (['image', 'video', 'carousel'] as const)[i % 3]!,
      url: null,
      engagements: 5000 - i * 321,
      altText: `image: ${excerpt}`,
      altTextSource: 'content-excerpt',
    };
  });
  return {
    title: 'Weekly performance',
    organisation: { id: 'org-1', name: 'Northwind Traders' },
    timeZone,
    range,
    previous,
    generatedAt: range.to + 6 * 3_600_000,
    granularity: 'day',
    metrics: chosen,
    accounts: list,
    untrackedAccountIds: [],
    summaries,
    topPosts,
    comparison: compareMembers({ id: 'set-1', name: 'Outdoor brands' }, chosen, summaries),
  };
}
