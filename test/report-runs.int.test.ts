// The reports worker on PostgreSQL with three replicas sharing one queue: twenty due runs, each
// rendered exactly once; and a replica cut off from the store mid-run leaves its run to be taken
// over, once, by another when its lease lapses.
import { beforeAll, describe, expect, test } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import { createOrganisation, upsertTrackedAccounts } from '../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../lib/meta/meta.port.ts';
import { listRuns, queueManualRun, runFile } from '../lib/meta/report-runs.repo.ts';
import { createReportSchedule } from '../lib/meta/report-schedules.repo.ts';
import { parseReportScheduleInput } from '../subgraphs/reports/report-schedule.input.ts';
import type { ReportRenderer } from '../subgraphs/reports/runs/report-renderer.port.ts';
import { startReportWorker, type ReportWorker } from '../subgraphs/reports/runs/report-worker.ts';
import { waitUntil } from './support/wait-for.ts';
import { severable, useThrowawayMeta } from './support/throwaway-meta.ts';

const logger = createLogger('silent');
const shared = useThrowawayMeta();
let meta: MetaStore;
beforeAll(() => {
  meta = shared.get();
});

/** A renderer that counts what each replica rendered, per definition. */
function countingRenderer(owner: string, renders: { owner: string; name: string }[]) {
  const render: ReportRenderer = async (definition) => {
    renders.push({ owner, name: definition.name });
    await new Promise((r) => setTimeout(r, 10));
    return {
      bytes: Buffer.from(`report,${definition.name}\n`),
      contentType: 'text/csv',
      fileName: `${definition.name}.csv`,
    };
  };
  return render;
}

async function definitions(orgId: string, count: number, cron: string | null) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const schedule = await createReportSchedule(
      meta,
      orgId,
      parseReportScheduleInput(
        {
          name: `R${String(i).padStart(2, '0')}`,
          format: 'csv',
          cron,
          timezone: 'UTC',
          accountIds: ['a1'],
          metrics: ['likes'],
        },
        new Date(Date.now() - 3_600_000),
      ),
    );
    ids.push(schedule.id);
  }
  return ids;
}

describe('report worker with three replicas on PostgreSQL', () => {
  test('twenty due schedules: each runs exactly once, split between the replicas', async () => {
    const orgId = await createOrganisation(meta, 'Split');
    await upsertTrackedAccounts(meta, orgId, [{ id: 'a1', platform: 'x' }]);
    // Every minute: each definition's next instant was an hour ago, so all twenty are due now.
    const ids = await definitions(orgId, 20, '* * * * *');
    const renders: { owner: string; name: string }[] = [];
    const replicas: ReportWorker[] = ['A', 'B', 'C'].map((owner) =>
      startReportWorker({
        meta,
        owner,
        logger,
        render: countingRenderer(owner, renders),
        settings: { concurrency: 3, tickMs: 20, leaseMs: 10_000 },
      }),
    );
    try {
      await waitUntil('twenty runs done', async () => {
        const [row] = await meta.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM report_runs WHERE org_id = $1 AND status = 'succeeded'`,
          [orgId],
        );
        return row?.n === 20;
      });
      // A few more ticks: nothing runs twice.
      await new Promise((r) => setTimeout(r, 200));
      await Promise.all(replicas.map((r) => r.idle()));
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
    expect(renders).toHaveLength(20);
    expect(new Set(renders.map((r) => r.name)).size).toBe(20);
    expect(new Set(renders.map((r) => r.owner)).size).toBeGreaterThan(1);
    for (const id of ids) {
      const runs = await listRuns(meta, orgId, id, 10);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'succeeded', attempts: 1, trigger: 'schedule' });
    }
  });

  test('a replica cut off mid-run: another takes the run over once, as its second attempt', async () => {
    const orgId = await createOrganisation(meta, 'Cut');
    await upsertTrackedAccounts(meta, orgId, [{ id: 'a1', platform: 'x' }]);
    const [scheduleId] = await definitions(orgId, 1, null);
    const run = (await queueManualRun(meta, orgId, scheduleId!, new Date()))!;
    const renders: { owner: string; name: string }[] = [];
    const victimStore = severable(meta);
    let rendering!: () => void;
    const started = new Promise<void>((r) => (rendering = r));
    const victim = startReportWorker({
      meta: victimStore,
      owner: 'victim',
      logger,
      settings: { concurrency: 1, tickMs: 600_000, leaseMs: 400 },
      render: async (definition) => {
        renders.push({ owner: 'victim', name: definition.name });
        rendering();
        // Its network goes while it renders; what it made can no longer be stored.
        await new Promise((r) => setTimeout(r, 50));
        victimStore.cut();
        return { bytes: Buffer.from('lost'), contentType: 'text/csv', fileName: 'lost.csv' };
      },
    });
    expect(await victim.tick()).toBe(1);
    await started;
    await victim.idle();
    const survivors = ['B', 'C'].map((owner) =>
      startReportWorker({
        meta,
        owner,
        logger,
        render: countingRenderer(owner, renders),
        settings: { concurrency: 2, tickMs: 25, leaseMs: 400 },
      }),
    );
    try {
      await waitUntil('the run taken over', async () => {
        const [r] = await listRuns(meta, orgId, scheduleId!, 1);
        return r?.status === 'succeeded';
      });
      await new Promise((r) => setTimeout(r, 600));
      await Promise.all(survivors.map((s) => s.idle()));
    } finally {
      await Promise.all(survivors.map((s) => s.close()));
      await victim.close().catch(() => undefined);
    }
    expect(renders.map((r) => r.owner).filter((o) => o !== 'victim')).toHaveLength(1);
    expect(renders).toHaveLength(2);
    const [done] = await listRuns(meta, orgId, scheduleId!, 10);
    expect(done).toMatchObject({ id: run.id, status: 'succeeded', attempts: 2 });
    expect(done?.errors).toEqual(['lease lapsed: the replica running it stopped']);
    expect((await runFile(meta, run.id))?.bytes.toString()).toBe('report,R00\n');
  });
});
