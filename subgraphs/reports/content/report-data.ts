// What a report holds, independent of how it is rendered: the request the scheduler makes and the
// numbers buildReport answers it with. CSV and PDF renderers read only ReportData.
import type { MetricName, Platform } from '../../../schema/event-envelope.ts';

export interface ReportRequest {
  orgId: string;
  organisationName: string;
  /** IANA; buckets and every time shown are in it. */
  timeZone: string;
  /** The report's accounts (a competitor set's members, resolved by the caller). */
  accountIds: string[];
  /** When the report covers a set: the comparison of its members is added. */
  competitorSet?: { id: string; name: string };
  /** Lower-case names as in METRICS. */
  metrics: MetricName[];
  /** Epoch ms, [from, to). */
  range: { from: number; to: number };
  /** The period compared against. */
  previous: { from: number; to: number };
  generatedAt: number;
  title?: string;
}

export interface TimeRange {
  from: number;
  to: number;
}

export interface ReportAccount {
  id: string;
  platform: Platform;
  /** The handle or display name when the meta store has one, else the id. */
  name: string;
}

export interface ReportBucket {
  /** Clipped to the range: the first starts at `range.from`, the last ends at `range.to`. */
  start: number;
  end: number;
  value: number;
}

export interface MetricSummary {
  accountId: string;
  metric: MetricName;
  /**
   * Sum over the range. For a lifetime total (followers, following, post_count) it is the change
   * of its level over the range, the same rule the metrics API uses.
   */
  total: number;
  previousTotal: number;
  change: number;
  /** Null when the previous period had nothing to compare with. */
  changePercent: number | null;
  buckets: ReportBucket[];
}

export interface ReportPost {
  id: string;
  accountId: string;
  platform: Platform;
  publishedAt: number;
  /** The content, whitespace collapsed, cut at EXCERPT_LENGTH characters. */
  excerpt: string;
  content: string;
  mediaType: string | null;
  url: string | null;
  /** Lifetime engagements by the platform's definition. */
  engagements: number;
  /**
   * The thumbnail's alternative text. Posts carry no alt text today, so it is made from the
   * content excerpt (`altTextSource: 'content-excerpt'`).
   */
  altText: string;
  altTextSource: 'content-excerpt';
}

export interface ComparisonCell {
  accountId: string;
  metric: MetricName;
  total: number;
  /** This account's part of the set's total, 0..100; null when the set's total is 0. */
  sharePercent: number | null;
  /** 1 for the largest total in the set. */
  rank: number;
}

export interface CompetitorComparison {
  setId: string;
  setName: string;
  /** Per metric, the set's total over its members. */
  setTotals: { metric: MetricName; total: number; previousTotal: number }[];
  cells: ComparisonCell[];
}

export interface ReportData {
  title: string;
  organisation: { id: string; name: string };
  timeZone: string;
  range: TimeRange;
  previous: TimeRange;
  generatedAt: number;
  /** Daily buckets, or ISO weeks when the range is longer than WEEKLY_AFTER_DAYS. */
  granularity: 'day' | 'week';
  metrics: MetricName[];
  accounts: ReportAccount[];
  /** Asked for but not tracked by the organisation: left out of every number. */
  untrackedAccountIds: string[];
  /** In the order of accounts, then metrics. */
  summaries: MetricSummary[];
  /** Best first by lifetime engagements, published in the range. */
  topPosts: ReportPost[];
  comparison: CompetitorComparison | null;
}

/** Ranges longer than this many days are bucketed by ISO week. */
export const WEEKLY_AFTER_DAYS = 62;
export const EXCERPT_LENGTH = 160;
export const TOP_POSTS = 10;
