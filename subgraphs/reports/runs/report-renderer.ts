// The worker's renderer: a definition as of an instant becomes a report request (its accounts, or
// its competitor set's members; its range rule in its time zone), whose data is read from the
// OLAP store and rendered as the definition's format (subgraphs/reports/content).
import { getOrganisation } from '../../../lib/meta/accounts.repo.ts';
import { getCompetitorSet } from '../../../lib/meta/competitor-sets.repo.ts';
import type { MetaQuery } from '../../../lib/meta/meta.port.ts';
import type { Olap } from '../../../lib/olap/olap.port.ts';
import type { MetricName } from '../../../schema/event-envelope.ts';
import { buildReport } from '../content/build-report.ts';
import { renderCsv } from '../content/report-csv.ts';
import { renderPdf } from '../content/report-pdf.ts';
import { rangeFor } from '../content/report-range.ts';
import type { ReportRenderer } from './report-renderer.port.ts';

export function createReportRenderer(deps: {
  olap: Olap;
  meta: MetaQuery;
  now?: () => number;
}): ReportRenderer {
  const { olap, meta, now = Date.now } = deps;
  return async (definition, at) => {
    const org = await getOrganisation(meta, definition.orgId);
    if (!org) throw new Error('the organisation of this report no longer exists');
    const set = definition.competitorSetId
      ? await getCompetitorSet(meta, definition.orgId, definition.competitorSetId)
      : null;
    if (definition.competitorSetId && !set) {
      throw new Error('the competitor set of this report no longer exists');
    }
    const { range, previous } = rangeFor(definition.rangeRule, at, definition.timezone);
    const data = await buildReport(
      { olap, meta },
      {
        orgId: definition.orgId,
        organisationName: org.name,
        timeZone: definition.timezone,
        accountIds: set ? set.accountIds : definition.accountIds,
        ...(set && { competitorSet: { id: set.id, name: set.name } }),
        // Validated against METRICS when the definition was stored.
        metrics: definition.metrics as MetricName[],
        range,
        previous,
        generatedAt: now(),
        title: definition.name,
      },
    );
    const day = new Date(range.from).toISOString().slice(0, 10);
    const base = `${definition.name.replace(/[^\w.-]+/g, '-').slice(0, 60)}-${day}`;
    return definition.format === 'pdf'
      ? { bytes: await renderPdf(data), contentType: 'application/pdf', fileName: `${base}.pdf` }
      : { bytes: renderCsv(data), contentType: 'text/csv; charset=utf-8', fileName: `${base}.csv` };
  };
}
