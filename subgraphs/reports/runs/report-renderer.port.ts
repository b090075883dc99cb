// What the worker asks of the report content: the file of a definition for an instant. The real
// one builds the data from the OLAP store and renders it as PDF or CSV (subgraphs/reports/content);
// the worker depends only on this, so it is tested with any renderer that gives real bytes.
import type { ReportSchedule } from '../../../lib/meta/report-schedules.repo.ts';

export interface RenderedReport {
  bytes: Buffer;
  contentType: string;
  fileName: string;
}

/** Renders `definition` as of `at` (epoch ms: the cron's tick, or when runReport was asked). */
export type ReportRenderer = (definition: ReportSchedule, at: number) => Promise<RenderedReport>;
