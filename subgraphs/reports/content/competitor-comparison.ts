// The comparison of a competitor set's members: per metric each member's total, its share of the
// set's total and its rank (ties share a rank), and the set's totals against the previous period.
import type { MetricName } from '../../../schema/event-envelope.ts';
import type { CompetitorComparison, MetricSummary } from './report-data.ts';

export function compareMembers(
  set: { id: string; name: string },
  metrics: readonly MetricName[],
  summaries: readonly MetricSummary[],
): CompetitorComparison {
  const setTotals = metrics.map((metric) => {
    const mine = summaries.filter((s) => s.metric === metric);
    return {
      metric,
      total: mine.reduce((sum, s) => sum + s.total, 0),
      previousTotal: mine.reduce((sum, s) => sum + s.previousTotal, 0),
    };
  });
  const cells = summaries.map((s) => {
    const setTotal = setTotals.find((t) => t.metric === s.metric)?.total ?? 0;
    const above = summaries.filter((o) => o.metric === s.metric && o.total > s.total).length;
    return {
      accountId: s.accountId,
      metric: s.metric,
      total: s.total,
      sharePercent: setTotal === 0 ? null : (s.total / setTotal) * 100,
      rank: above + 1,
    };
  });
  return { setId: set.id, setName: set.name, setTotals, cells };
}
