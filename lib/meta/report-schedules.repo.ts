// Report schedules: what to send (accounts, metrics, format), when (cron in a timezone), to whom.
import { randomUUID } from 'node:crypto';
import type { MetaQuery } from './meta.port.ts';

export type ReportFormat = 'pdf' | 'csv';

/** A schedule as stored; callers validate cron, timezone, metrics and recipients beforehand. */
export interface NewReportSchedule {
  name: string;
  format: ReportFormat;
  cron: string;
  timezone: string;
  accountIds: readonly string[];
  /** Lower-case metric names, as in METRICS of the event envelope. */
  metrics: readonly string[];
  recipients: readonly string[];
}

export interface ReportSchedule extends Omit<
  NewReportSchedule,
  'accountIds' | 'metrics' | 'recipients'
> {
  id: string;
  accountIds: string[];
  metrics: string[];
  recipients: string[];
  createdAt: Date;
}

export async function createReportSchedule(
  db: MetaQuery,
  orgId: string,
  schedule: NewReportSchedule,
): Promise<ReportSchedule> {
  const [row] = await db.query<ScheduleRow>(
    `INSERT INTO report_schedules
       (id, org_id, name, format, cron, timezone, account_ids, metrics, recipients)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::text[], $9::text[])
     RETURNING ${COLUMNS}`,
    [
      randomUUID(),
      orgId,
      schedule.name,
      schedule.format,
      schedule.cron,
      schedule.timezone,
      [...schedule.accountIds],
      [...schedule.metrics],
      [...schedule.recipients],
    ],
  );
  if (!row) throw new Error('report schedule insert returned no row');
  return toSchedule(row);
}

/** The schedules of `orgId`, oldest first. */
export async function listReportSchedules(db: MetaQuery, orgId: string): Promise<ReportSchedule[]> {
  const rows = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM report_schedules WHERE org_id = $1 ORDER BY created_at, id`,
    [orgId],
  );
  return rows.map(toSchedule);
}

/** Deletes a schedule of `orgId`; false when this organisation has none with that id. */
export async function deleteReportSchedule(
  db: MetaQuery,
  orgId: string,
  id: string,
): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    'DELETE FROM report_schedules WHERE org_id = $1 AND id = $2 RETURNING id',
    [orgId, id],
  );
  return rows.length > 0;
}

const COLUMNS = 'id, name, format, cron, timezone, account_ids, metrics, recipients, created_at';

interface ScheduleRow {
  id: string;
  name: string;
  format: ReportFormat;
  cron: string;
  timezone: string;
  account_ids: string[];
  metrics: string[];
  recipients: string[];
  created_at: Date;
}

function toSchedule(r: ScheduleRow): ReportSchedule {
  return {
    id: r.id,
    name: r.name,
    format: r.format,
    cron: r.cron,
    timezone: r.timezone,
    accountIds: r.account_ids,
    metrics: r.metrics,
    recipients: r.recipients,
    createdAt: r.created_at,
  };
}
