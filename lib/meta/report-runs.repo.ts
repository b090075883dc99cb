// Report runs: queued by a schedule's cron or by runReport, claimed by one worker replica at a
// time with FOR UPDATE SKIP LOCKED, the lease renewed while the run works, and every write of the
// run fenced by the lease, so a replica that lost it (paused, cut off) changes nothing. A schedule
// due while every replica was down queues one run when one comes back: the claim that queues it
// moves the schedule's next instant past now in the same transaction.
import { randomUUID } from 'node:crypto';
import type { MetaQuery, MetaStore } from './meta.port.ts';
import {
  SCHEDULE_COLUMNS,
  toSchedule,
  type ReportSchedule,
  type ScheduleRow,
} from './report-schedules.repo.ts';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type RunTrigger = 'schedule' | 'manual';

export interface ReportRun {
  id: string;
  orgId: string;
  scheduleId: string;
  trigger: RunTrigger;
  status: RunStatus;
  /** The instant the report is for: the cron's tick, or when it was asked for. */
  dueAt: Date;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  attempts: number;
  /** When a queued run may be tried (again). */
  nextAttemptAt: Date;
  /** The last attempt's error; `errors` holds every one, oldest first. */
  error: string | null;
  errors: string[];
  /** Bytes of the stored file, once there is one. */
  size: number | null;
}

/** A run claimed by a replica, with the definition it renders. */
export interface ClaimedRun extends ReportRun {
  schedule: ReportSchedule;
}

export interface RunFile {
  contentType: string;
  fileName: string;
  bytes: Buffer;
}

export type DeliveryChannel = 'email' | 'webhook';

export interface DeliveryAttempt {
  runId: string;
  channel: DeliveryChannel;
  target: string;
  attempt: number;
  status: 'sent' | 'failed';
  error: string | null;
  at: Date;
}

/** The next instant a schedule fires after `after`; null when it never does again. */
export type NextInstant = (schedule: ReportSchedule, after: Date) => Date | null;

/**
 * Queues a run for each schedule whose next instant has come (up to `limit`), and moves that
 * instant past `now`: however many ticks were missed, one run, for the latest of them. Schedules
 * with a cron and no instant yet (made before instants were kept) only get one. Replicas doing
 * this at once skip each other's rows.
 */
export async function queueDueSchedules(
  meta: MetaStore,
  now: Date,
  next: NextInstant,
  limit: number,
): Promise<ReportRun[]> {
  return meta.transaction(async (tx) => {
    const rows = await tx.query<ScheduleRow>(
      `SELECT ${SCHEDULE_COLUMNS} FROM report_schedules
       WHERE cron IS NOT NULL AND (next_run_at IS NULL OR next_run_at <= $1)
       ORDER BY next_run_at NULLS FIRST LIMIT $2
       FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
    const queued: ReportRun[] = [];
    for (const schedule of rows.map(toSchedule)) {
      let dueAt: Date | null = null;
      let upcoming = schedule.nextRunAt;
      if (upcoming === null) {
        upcoming = next(schedule, now);
      } else {
        // The latest missed tick is what the report is for; the first after now is the next.
        for (let i = 0; upcoming !== null && upcoming <= now && i < 1_000_000; i++) {
          dueAt = upcoming;
          upcoming = next(schedule, upcoming);
        }
        if (upcoming !== null && upcoming <= now) upcoming = next(schedule, now);
      }
      await tx.query('UPDATE report_schedules SET next_run_at = $2 WHERE id = $1', [
        schedule.id,
        upcoming,
      ]);
      if (dueAt)
        queued.push(await insertRun(tx, schedule.orgId, schedule.id, 'schedule', dueAt, now));
    }
    return queued;
  });
}

/** Queues a run of a schedule of `orgId` now; null when this organisation has no such schedule. */
export async function queueManualRun(
  meta: MetaStore,
  orgId: string,
  scheduleId: string,
  now: Date,
): Promise<ReportRun | null> {
  return meta.transaction(async (tx) => {
    const [found] = await tx.query<{ id: string }>(
      'SELECT id FROM report_schedules WHERE org_id = $1 AND id = $2',
      [orgId, scheduleId],
    );
    return found ? insertRun(tx, orgId, scheduleId, 'manual', now, now) : null;
  });
}

async function insertRun(
  db: MetaQuery,
  orgId: string,
  scheduleId: string,
  trigger: RunTrigger,
  dueAt: Date,
  now: Date,
): Promise<ReportRun> {
  const [row] = await db.query<RunRow>(
    `INSERT INTO report_runs (id, org_id, schedule_id, trigger, due_at, queued_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ${RUN_COLUMNS}`,
    [randomUUID(), orgId, scheduleId, trigger, dueAt, now],
  );
  return toRun(row!);
}

/**
 * Claims up to `limit` runs for `owner` until `now + leaseMs`: queued and due, or running under a
 * lease that lapsed (its replica stopped), and not out of attempts. A lapsed run that was already
 * on its last attempt is failed instead.
 */
export async function claimDueRuns(
  meta: MetaStore,
  owner: string,
  now: Date,
  leaseMs: number,
  limit: number,
  maxAttempts: number,
): Promise<ClaimedRun[]> {
  const lapsed = 'lease lapsed: the replica running it stopped';
  await meta.query(
    `UPDATE report_runs SET status = 'failed', finished_at = $1, error = $3::text,
       errors = errors || $3::text, lease_owner = NULL, lease_until = NULL
     WHERE status = 'running' AND lease_until < $1 AND attempts >= $2`,
    [now, maxAttempts, lapsed],
  );
  const rows = await meta.query<RunRow & { [k: `s_${string}`]: unknown }>(
    `WITH claimed AS (
       UPDATE report_runs r SET status = 'running', attempts = r.attempts + 1, started_at = $2,
         lease_owner = $1, lease_until = $3,
         errors = CASE WHEN r.status = 'running' THEN r.errors || $6::text ELSE r.errors END,
         error = CASE WHEN r.status = 'running' THEN $6::text ELSE r.error END
       FROM (
         SELECT id FROM report_runs
         WHERE status IN ('queued', 'running') AND next_attempt_at <= $2
           AND (lease_until IS NULL OR lease_until < $2) AND attempts < $5
         ORDER BY next_attempt_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE r.id = due.id
       RETURNING r.*
     )
     SELECT ${RUN_COLUMNS.split(',')
       .map((c) => `claimed.${c.trim()}`)
       .join(', ')}, row_to_json(s) AS schedule
     FROM claimed JOIN report_schedules s ON s.id = claimed.schedule_id`,
    [owner, now, new Date(now.getTime() + leaseMs), limit, maxAttempts, lapsed],
  );
  return rows.map((r) => {
    const s = (r as unknown as { schedule: Record<string, unknown> }).schedule;
    return { ...toRun(r), schedule: toSchedule(scheduleFromJson(s)) };
  });
}

/** row_to_json gives timestamps as strings. */
function scheduleFromJson(s: Record<string, unknown>): ScheduleRow {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    ...(s as unknown as ScheduleRow),
    next_run_at: date(s['next_run_at']),
    created_at: date(s['created_at'])!,
    updated_at: date(s['updated_at'])!,
  };
}

/** Extends `owner`'s leases; answers the runs it still holds (a lost one must stop). */
export async function renewRunLeases(
  db: MetaQuery,
  owner: string,
  runIds: readonly string[],
  now: Date,
  leaseMs: number,
): Promise<string[]> {
  if (runIds.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `UPDATE report_runs SET lease_until = $3
     WHERE lease_owner = $1 AND status = 'running' AND id = ANY($2::text[]) RETURNING id`,
    [owner, [...runIds], new Date(now.getTime() + leaseMs)],
  );
  return rows.map((r) => r.id);
}

/** A stopping replica gives its unfinished runs back at once; the attempt it spent is returned. */
export async function releaseRunLeases(
  db: MetaQuery,
  owner: string,
  runIds: readonly string[],
): Promise<void> {
  if (runIds.length === 0) return;
  await db.query(
    `UPDATE report_runs SET status = 'queued', attempts = greatest(attempts - 1, 0),
       lease_owner = NULL, lease_until = NULL
     WHERE lease_owner = $1 AND status = 'running' AND id = ANY($2::text[])`,
    [owner, [...runIds]],
  );
}

/** Stores a run's file (kept if one is there from an earlier attempt); false when the lease is lost. */
export async function storeRunFile(
  meta: MetaStore,
  owner: string,
  runId: string,
  file: RunFile,
  now: Date,
): Promise<boolean> {
  return meta.transaction(async (tx) => {
    const held = await tx.query(
      `SELECT id FROM report_runs WHERE id = $1 AND lease_owner = $2 AND status = 'running'
       FOR UPDATE`,
      [runId, owner],
    );
    if (held.length === 0) return false;
    await tx.query(
      `INSERT INTO report_files (run_id, content_type, file_name, bytes, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING`,
      [runId, file.contentType, file.fileName, file.bytes, now],
    );
    await tx.query(
      'UPDATE report_runs SET size = (SELECT length(bytes) FROM report_files WHERE run_id = $1) WHERE id = $1',
      [runId],
    );
    return true;
  });
}

/** The stored file of a run, whoever owns it (the worker's view). */
export async function runFile(db: MetaQuery, runId: string): Promise<RunFile | null> {
  const [row] = await db.query<FileRow>(
    'SELECT content_type, file_name, bytes FROM report_files WHERE run_id = $1',
    [runId],
  );
  return row ? toFile(row) : null;
}

/** The stored file of a run of `orgId`; null when there is none, or the run is another's. */
export async function getRunFile(
  db: MetaQuery,
  orgId: string,
  runId: string,
): Promise<RunFile | null> {
  const [row] = await db.query<FileRow>(
    `SELECT f.content_type, f.file_name, f.bytes FROM report_files f
     JOIN report_runs r ON r.id = f.run_id WHERE r.org_id = $1 AND f.run_id = $2`,
    [orgId, runId],
  );
  return row ? toFile(row) : null;
}

/** Records one delivery attempt; false (nothing recorded) when `owner` lost the run's lease. */
export async function recordDelivery(
  db: MetaQuery,
  owner: string,
  attempt: DeliveryAttempt,
): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO report_deliveries (run_id, channel, target, attempt, status, error, at)
     SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (
       SELECT 1 FROM report_runs WHERE id = $1 AND lease_owner = $8 AND status = 'running')
     ON CONFLICT DO NOTHING
     RETURNING run_id`,
    [
      attempt.runId,
      attempt.channel,
      attempt.target,
      attempt.attempt,
      attempt.status,
      attempt.error,
      attempt.at,
      owner,
    ],
  );
  return rows.length > 0;
}

/** The delivery attempts of runs, oldest first. */
export async function listDeliveries(
  db: MetaQuery,
  runIds: readonly string[],
): Promise<DeliveryAttempt[]> {
  if (runIds.length === 0) return [];
  const rows = await db.query<{
    run_id: string;
    channel: DeliveryChannel;
    target: string;
    attempt: number;
    status: 'sent' | 'failed';
    error: string | null;
    at: Date;
  }>(
    `SELECT run_id, channel, target, attempt, status, error, at FROM report_deliveries
     WHERE run_id = ANY($1::text[]) ORDER BY at, channel, target, attempt`,
    [[...runIds]],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    channel: r.channel,
    target: r.target,
    attempt: r.attempt,
    status: r.status,
    error: r.error,
    at: r.at,
  }));
}

/** How a run's attempt ended: done, or failed and tried again at `retryAt` (null: no more). */
export type RunOutcome =
  { kind: 'succeeded' } | { kind: 'failed'; error: string; retryAt: Date | null };

/** Ends a run's attempt and releases its lease; false when `owner` no longer held it. */
export async function finishRun(
  db: MetaQuery,
  owner: string,
  runId: string,
  outcome: RunOutcome,
  now: Date,
): Promise<boolean> {
  const [status, error, retryAt] =
    outcome.kind === 'succeeded'
      ? ['succeeded', null, null]
      : [outcome.retryAt ? 'queued' : 'failed', outcome.error, outcome.retryAt];
  const rows = await db.query(
    `UPDATE report_runs SET status = $3::text,
       finished_at = CASE WHEN $3::text = 'queued' THEN NULL ELSE $4::timestamptz END,
       next_attempt_at = COALESCE($5, next_attempt_at),
       error = CASE WHEN $6::text IS NULL THEN error ELSE $6 END,
       errors = CASE WHEN $6::text IS NULL THEN errors ELSE errors || $6::text END,
       lease_owner = NULL, lease_until = NULL
     WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id`,
    [runId, owner, status, now, retryAt, error],
  );
  return rows.length > 0;
}

/** The runs of a schedule of `orgId`, newest first. */
export async function listRuns(
  db: MetaQuery,
  orgId: string,
  scheduleId: string,
  first: number,
): Promise<ReportRun[]> {
  const rows = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM report_runs WHERE org_id = $1 AND schedule_id = $2
     ORDER BY queued_at DESC, id DESC LIMIT $3`,
    [orgId, scheduleId, first],
  );
  return rows.map(toRun);
}

export async function getRun(db: MetaQuery, orgId: string, id: string): Promise<ReportRun | null> {
  const [row] = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM report_runs WHERE org_id = $1 AND id = $2`,
    [orgId, id],
  );
  return row ? toRun(row) : null;
}

const RUN_COLUMNS = `id, org_id, schedule_id, trigger, status, due_at, queued_at, started_at,
  finished_at, attempts, next_attempt_at, error, errors, size`;

interface RunRow {
  id: string;
  org_id: string;
  schedule_id: string;
  trigger: RunTrigger;
  status: RunStatus;
  due_at: Date;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  attempts: number;
  next_attempt_at: Date;
  error: string | null;
  errors: string[];
  size: number | null;
}

function toRun(r: RunRow): ReportRun {
  return {
    id: r.id,
    orgId: r.org_id,
    scheduleId: r.schedule_id,
    trigger: r.trigger,
    status: r.status,
    dueAt: r.due_at,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    error: r.error,
    errors: r.errors,
    size: r.size,
  };
}

interface FileRow {
  content_type: string;
  file_name: string;
  bytes: Uint8Array;
}

function toFile(r: FileRow): RunFile {
  return {
    contentType: r.content_type,
    fileName: r.file_name,
    bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
  };
}
