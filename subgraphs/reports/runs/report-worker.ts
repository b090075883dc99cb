// The reports worker: queues the runs schedules are due for, claims queued runs from the meta
// store, renders each, stores its file and delivers it. Any number of replicas may run it: a
// schedule's tick is queued by one of them (SKIP LOCKED, its next instant advanced in the same
// transaction), a run is leased to one replica at a time (renewed while it works, every write
// fenced), so each due run happens once; a replica that dies mid-run lets its lease lapse and
// another takes the run over as its next attempt. Failed runs are retried with doubling waits up
// to a limit, then failed.
import { startClaimLoop } from '../../../lib/leases/claim-loop.ts';
import { randomUUID } from 'node:crypto';
import { loadReportsConfig, type ReportsConfig } from '../../../lib/config.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { MetaStore } from '../../../lib/meta/meta.port.ts';
import {
  claimDueRuns,
  finishRun,
  queueDueSchedules,
  releaseRunLeases,
  renewRunLeases,
  runFile,
  storeRunFile,
  type ClaimedRun,
} from '../../../lib/meta/report-runs.repo.ts';
import type { ReportSchedule } from '../../../lib/meta/report-schedules.repo.ts';
import { nextRunAt } from '../report-schedule.input.ts';
import { deliverRun, LeaseLostError } from './report-delivery.ts';
import { NO_MAILER, type ReportMailer } from './report-mailer.port.ts';
import type { ReportRenderer } from './report-renderer.port.ts';

export type ReportWorkerSettings = Omit<ReportsConfig, 'smtp' | 'from'>;

export interface ReportWorkerDeps {
  meta: MetaStore;
  render: ReportRenderer;
  /** E-mail deliveries; without one they fail, recorded, saying no relay is configured. */
  mailer?: ReportMailer;
  logger: Logger;
  /** `config.reports` of the entry point; defaults for what is left out. */
  settings?: Partial<Omit<ReportWorkerSettings, 'delivery'>> & {
    delivery?: Partial<ReportWorkerSettings['delivery']>;
  };
  /** This replica's name in leases; random by default. */
  owner?: string;
  now?: () => number;
}

export interface ReportWorker {
  readonly owner: string;
  /** Queues due schedules, claims due runs and starts them; answers how many started. */
  tick(): Promise<number>;
  /** Resolves when no run of this replica is working. */
  idle(): Promise<void>;
  readonly stats: { started: number; succeeded: number; failed: number; 'lease-lost': number };
  /** Stops claiming, stops running runs at their next step, and gives their leases back. */
  close(): Promise<void>;
}

const nextOf = (schedule: ReportSchedule, after: Date): Date | null =>
  schedule.cron === null ? null : nextRunAt(schedule.cron, schedule.timezone, after);

export function startReportWorker(deps: ReportWorkerDeps): ReportWorker {
  const { meta, render, logger } = deps;
  const defaults = loadReportsConfig({});
  const settings: ReportWorkerSettings = {
    ...defaults,
    ...deps.settings,
    delivery: { ...defaults.delivery, ...deps.settings?.delivery },
  };
  const mailer = deps.mailer ?? NO_MAILER;
  const now = deps.now ?? Date.now;
  const owner = deps.owner ?? `reports-${randomUUID()}`;
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const stats = { started: 0, succeeded: 0, failed: 0, 'lease-lost': 0 };
  let closed = false;
  let nothingDue = false;
  // Set once the loop is made, below the functions it drives.
  let askToClaim = () => {};

  async function work(run: ClaimedRun, controller: AbortController): Promise<void> {
    const log = logger.child({ runId: run.id, scheduleId: run.scheduleId, attempt: run.attempts });
    try {
      // A run taken over from a replica that stopped after storing its file is not rendered again.
      let file = await runFile(meta, run.id);
      if (!file) {
        file = await render(run.schedule, run.dueAt.getTime());
        if (controller.signal.aborted) throw new LeaseLostError('the run lease was lost');
        if (!(await storeRunFile(meta, owner, run.id, file, new Date(now())))) {
          throw new LeaseLostError('the run lease was lost');
        }
      }
      await deliverRun(
        {
          meta,
          mailer,
          logger: log,
          settings: settings.delivery,
          owner,
          now,
          signal: controller.signal,
        },
        run,
        file,
      );
      if (!(await finishRun(meta, owner, run.id, { kind: 'succeeded' }, new Date(now())))) {
        throw new LeaseLostError('the run lease was lost');
      }
      stats.succeeded += 1;
    } catch (error) {
      if (error instanceof LeaseLostError || controller.signal.aborted) {
        stats['lease-lost'] += 1;
        log.warn('report run stopped: its lease is gone (another replica takes it over)');
        return;
      }
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const retryAt =
        run.attempts < settings.maxAttempts
          ? new Date(now() + settings.retryBackoffMs * 2 ** (run.attempts - 1))
          : null;
      stats.failed += 1;
      log.warn({ error: message, retryAt }, 'report run failed');
      await finishRun(
        meta,
        owner,
        run.id,
        { kind: 'failed', error: message, retryAt },
        new Date(now()),
      );
    }
  }

  async function tick(): Promise<number> {
    if (closed) return 0;
    await queueDueSchedules(meta, new Date(now()), nextOf, 100);
    const room = settings.concurrency - running.size;
    if (room <= 0) return 0;
    const claimed = await claimDueRuns(
      meta,
      owner,
      new Date(now()),
      settings.leaseMs,
      room,
      settings.maxAttempts,
    );
    nothingDue = claimed.length < room;
    for (const run of claimed) {
      const controller = new AbortController();
      stats.started += 1;
      const done = work(run, controller)
        .catch((error: unknown) =>
          logger.error({ err: error, runId: run.id }, 'report run bookkeeping failed'),
        )
        .finally(() => {
          running.delete(run.id);
          // A finished run frees a slot: claim again at once unless nothing more was due.
          if (!closed && !nothingDue) askToClaim();
        });
      running.set(run.id, { controller, done });
    }
    return claimed.length;
  }

  async function renew(): Promise<void> {
    const ids = [...running.keys()];
    if (ids.length === 0) return;
    const held = new Set(await renewRunLeases(meta, owner, ids, new Date(now()), settings.leaseMs));
    for (const id of ids) if (!held.has(id)) running.get(id)?.controller.abort();
  }

  const loop = startClaimLoop({
    name: 'report worker',
    claim: tick,
    renew,
    claimEveryMs: settings.tickMs,
    renewEveryMs: Math.max(50, settings.leaseMs / 3),
    logger,
  });
  askToClaim = () => loop.ask();

  return {
    owner,
    stats,
    tick: () => loop.claimNow(),
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
    async close() {
      closed = true;
      await loop.stop();
      const ids = [...running.keys()];
      for (const r of running.values()) r.controller.abort();
      await Promise.all([...running.values()].map((r) => r.done));
      await releaseRunLeases(meta, owner, ids);
    },
  };
}
