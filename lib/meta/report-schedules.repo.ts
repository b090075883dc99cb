// Report schedules (definitions): what to report (accounts or a competitor set, metrics, a range
// rule, a format), when (an optional cron in a time zone, its next instant kept here), and where
// it goes (e-mail recipients, webhooks signed with the definition's own secret).
import { randomBytes, randomUUID } from 'node:crypto';
import type { MetaQuery } from './meta.port.ts';

export type ReportFormat = 'pdf' | 'csv';
export const RANGE_RULES = ['last_7_days', 'last_30_days', 'previous_month'] as const;
export type RangeRule = (typeof RANGE_RULES)[number];

/** A schedule as stored; callers validate cron, timezone, metrics and targets beforehand. */
export interface NewReportSchedule {
  name: string;
  format: ReportFormat;
  /** Five fields, evaluated in `timezone`; null: the report runs only when asked. */
  cron: string | null;
  timezone: string;
  /** Empty when the report covers a competitor set. */
  accountIds: readonly string[];
  competitorSetId?: string | null;
  /** Lower-case metric names, as in METRICS of the event envelope. */
  metrics: readonly string[];
  rangeRule?: RangeRule;
  recipients: readonly string[];
  webhookUrls?: readonly string[];
  /** The cron's first instant from now; computed by the caller (it knows croner). */
  nextRunAt?: Date | null;
}

export interface ReportSchedule {
  id: string;
  orgId: string;
  name: string;
  format: ReportFormat;
  cron: string | null;
  timezone: string;
  accountIds: string[];
  competitorSetId: string | null;
  metrics: string[];
  rangeRule: RangeRule;
  recipients: string[];
  webhookUrls: string[];
  /** Signs webhook deliveries; the API shows it to admin keys only. */
  webhookSecret: string;
  nextRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function newWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}

export async function createReportSchedule(
  db: MetaQuery,
  orgId: string,
  schedule: NewReportSchedule,
): Promise<ReportSchedule> {
  const [row] = await db.query<ScheduleRow>(
    `INSERT INTO report_schedules
       (id, org_id, name, format, cron, timezone, account_ids, metrics, recipients,
        competitor_set_id, range_rule, webhook_urls, webhook_secret, next_run_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::text[], $9::text[], $10, $11, $12::text[],
             $13, $14)
     RETURNING ${COLUMNS}`,
    [randomUUID(), orgId, ...values(schedule), newWebhookSecret(), schedule.nextRunAt ?? null],
  );
  if (!row) throw new Error('report schedule insert returned no row');
  return toSchedule(row);
}

/** Replaces what a schedule of `orgId` says (its secret and history stay); null when none. */
export async function updateReportSchedule(
  db: MetaQuery,
  orgId: string,
  id: string,
  schedule: NewReportSchedule,
  now: Date = new Date(),
): Promise<ReportSchedule | null> {
  const [row] = await db.query<ScheduleRow>(
    `UPDATE report_schedules SET name = $3, format = $4, cron = $5, timezone = $6,
       account_ids = $7::text[], metrics = $8::text[], recipients = $9::text[],
       competitor_set_id = $10, range_rule = $11, webhook_urls = $12::text[],
       next_run_at = $13, updated_at = $14
     WHERE org_id = $1 AND id = $2
     RETURNING ${COLUMNS}`,
    [orgId, id, ...values(schedule), schedule.nextRunAt ?? null, now],
  );
  return row ? toSchedule(row) : null;
}

/** The schedules of `orgId`, oldest first. */
export async function listReportSchedules(db: MetaQuery, orgId: string): Promise<ReportSchedule[]> {
  const rows = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM report_schedules WHERE org_id = $1 ORDER BY created_at, id`,
    [orgId],
  );
  return rows.map(toSchedule);
}

/** One schedule of `orgId`, or null when this organisation has none with that id. */
export async function getReportSchedule(
  db: MetaQuery,
  orgId: string,
  id: string,
): Promise<ReportSchedule | null> {
  const [row] = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM report_schedules WHERE org_id = $1 AND id = $2`,
    [orgId, id],
  );
  return row ? toSchedule(row) : null;
}

/** Deletes a schedule of `orgId` with its runs; false when this organisation has none with that id. */
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

function values(s: NewReportSchedule): unknown[] {
  return [
    s.name,
    s.format,
    s.cron,
    s.timezone,
    [...s.accountIds],
    [...s.metrics],
    [...s.recipients],
    s.competitorSetId ?? null,
    s.rangeRule ?? 'last_7_days',
    [...(s.webhookUrls ?? [])],
  ];
}

export const SCHEDULE_COLUMNS = `id, org_id, name, format, cron, timezone, account_ids, metrics,
  recipients, competitor_set_id, range_rule, webhook_urls, webhook_secret, next_run_at, created_at,
  updated_at`;
const COLUMNS = SCHEDULE_COLUMNS;

export interface ScheduleRow {
  id: string;
  org_id: string;
  name: string;
  format: ReportFormat;
  cron: string | null;
  timezone: string;
  account_ids: string[];
  competitor_set_id: string | null;
  metrics: string[];
  range_rule: RangeRule;
  recipients: string[];
  webhook_urls: string[];
  webhook_secret: string;
  next_run_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export function toSchedule(r: ScheduleRow): ReportSchedule {
  return {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    format: r.format,
    cron: r.cron,
    timezone: r.timezone,
    accountIds: r.account_ids,
    competitorSetId: r.competitor_set_id,
    metrics: r.metrics,
    rangeRule: r.range_rule,
    recipients: r.recipients,
    webhookUrls: r.webhook_urls,
    webhookSecret: r.webhook_secret,
    nextRunAt: r.next_run_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
