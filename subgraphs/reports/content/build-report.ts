// Gathers a report's numbers: per account and metric the series over the range in the
// organisation's zone (the metrics store's exact-range reads), the same totals over the previous
// period, the top posts published in the range, and the comparison of a competitor set's members.
import { getTrackedAccounts } from '../../../lib/meta/accounts.repo.ts';
import type { MetaQuery } from '../../../lib/meta/meta.port.ts';
import type { Olap } from '../../../lib/olap/olap.port.ts';
import { createMetricsStore, type MetricsAnswer } from '../../metrics/metrics.store.ts';
import { createPostAnalyticsStore } from '../../posts/post-analytics.store.ts';
import { compareMembers } from './competitor-comparison.ts';
import { toReportPost } from './post-excerpt.ts';
import {
  TOP_POSTS,
  WEEKLY_AFTER_DAYS,
  type MetricSummary,
  type ReportAccount,
  type ReportData,
  type ReportRequest,
  type TimeRange,
} from './report-data.ts';

const DAY_MS = 86_400_000;

export async function buildReport(
  deps: { olap: Olap; meta: MetaQuery },
  request: ReportRequest,
): Promise<ReportData> {
  const { orgId, timeZone, range, previous, metrics } = request;
  checkRange('range', range);
  checkRange('previous', previous);
  const ids = [...new Set(request.accountIds)];
  const tracked = await getTrackedAccounts(deps.meta, orgId, ids);
  const accounts: ReportAccount[] = [];
  const untrackedAccountIds: string[] = [];
  tracked.forEach((account, i) => {
    if (!account) untrackedAccountIds.push(ids[i]!);
    else
      accounts.push({
        id: account.id,
        platform: account.platform,
        name: account.handle ?? account.displayName ?? account.id,
      });
  });

  const granularity = range.to - range.from > WEEKLY_AFTER_DAYS * DAY_MS ? 'week' : 'day';
  const store = createMetricsStore({ olap: deps.olap });
  const read = (r: TimeRange) =>
    store.read({
      orgId,
      accountIds: accounts.map((a) => a.id),
      from: r.from,
      to: r.to,
      granularity,
      timeZone,
      metrics,
      groupBy: 'account',
      platforms: new Map(accounts.map((a) => [a.id, a.platform])),
    });
  const analytics = createPostAnalyticsStore(deps.olap);
  const [current, before, top] = await Promise.all([
    accounts.length > 0 ? read(range) : null,
    accounts.length > 0 ? read(previous) : null,
    accounts.length > 0
      ? analytics.top(orgId, {
          ...range,
          accountIds: accounts.map((a) => a.id),
          by: { metric: 'engagements' },
          first: TOP_POSTS,
        })
      : { nodes: [] },
  ]);

  const summaries = accounts.flatMap((account) =>
    metrics.map((metric, m) => summarise(account.id, metric, m, range, current, before)),
  );
  return {
    title: request.title ?? `${request.organisationName} report`,
    organisation: { id: orgId, name: request.organisationName },
    timeZone,
    range,
    previous,
    generatedAt: request.generatedAt,
    granularity,
    metrics: [...metrics],
    accounts,
    untrackedAccountIds,
    summaries,
    topPosts: top.nodes.map((n) => toReportPost(n.post)),
    comparison: request.competitorSet
      ? compareMembers(request.competitorSet, metrics, summaries)
      : null,
  };
}

function checkRange(name: string, r: TimeRange): void {
  if (!(Number.isFinite(r.from) && Number.isFinite(r.to) && r.from < r.to)) {
    throw new RangeError(`report ${name} must have from < to (got ${r.from}..${r.to})`);
  }
}

function summarise(
  accountId: string,
  metric: MetricSummary['metric'],
  index: number,
  range: TimeRange,
  current: MetricsAnswer | null,
  before: MetricsAnswer | null,
): MetricSummary {
  const series = current?.groups.get(accountId)?.[index];
  const total = series?.total ?? 0;
  const previousTotal = before?.groups.get(accountId)?.[index]?.total ?? 0;
  const starts = current?.buckets ?? [];
  const buckets = starts.map((start, i) => ({
    // The store's first bucket starts at or before the range; the report shows it clipped.
    start: Math.max(start, range.from),
    end: Math.min(starts[i + 1] ?? range.to, range.to),
    value: series?.points[i]?.value ?? 0,
  }));
  const change = total - previousTotal;
  return {
    accountId,
    metric,
    total,
    previousTotal,
    change,
    changePercent: previousTotal === 0 ? null : (change / Math.abs(previousTotal)) * 100,
    buckets,
  };
}
