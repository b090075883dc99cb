import { afterAll, beforeAll, expect, test } from 'vitest';
import { createOrganisation } from './accounts.repo.ts';
import type { MetaStore } from './meta.port.ts';
import { migrate } from './migrate.ts';
import { createPgliteMeta } from './pglite.meta.ts';
import {
  createReportSchedule,
  deleteReportSchedule,
  listReportSchedules,
  type NewReportSchedule,
} from './report-schedules.repo.ts';

let meta: MetaStore;
beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
});
afterAll(() => meta.close());

const weekly: NewReportSchedule = {
  name: 'Weekly',
  format: 'pdf',
  cron: '0 9 * * 1',
  timezone: 'Europe/Paris',
  accountIds: ['a1', 'a2'],
  metrics: ['likes', 'post_count'],
  recipients: ['ops@example.com'],
};

test('creates, lists and deletes schedules, arrays intact', async () => {
  const orgId = await createOrganisation(meta, 'Reporters');
  const created = await createReportSchedule(meta, orgId, weekly);
  expect(created).toMatchObject({ ...weekly, id: expect.any(String) as string });
  expect(created.createdAt).toBeInstanceOf(Date);
  const daily = await createReportSchedule(meta, orgId, {
    ...weekly,
    name: 'Daily',
    format: 'csv',
  });
  expect((await listReportSchedules(meta, orgId)).map((s) => s.name)).toEqual(['Weekly', 'Daily']);
  expect(await deleteReportSchedule(meta, orgId, created.id)).toBe(true);
  expect(await deleteReportSchedule(meta, orgId, created.id)).toBe(false);
  expect(await listReportSchedules(meta, orgId)).toEqual([daily]);
});

test('the schema refuses an unknown format and an unknown organisation', async () => {
  const orgId = await createOrganisation(meta, 'Strict');
  await expect(
    createReportSchedule(meta, orgId, { ...weekly, format: 'docx' as 'pdf' }),
  ).rejects.toThrow();
  await expect(createReportSchedule(meta, 'no-such-org', weekly)).rejects.toThrow();
});

test('organisation B can neither see nor delete the schedules of A', async () => {
  const a = await createOrganisation(meta, 'A');
  const b = await createOrganisation(meta, 'B');
  const created = await createReportSchedule(meta, a, weekly);
  expect(await listReportSchedules(meta, b)).toEqual([]);
  expect(await deleteReportSchedule(meta, b, created.id)).toBe(false);
  expect(await listReportSchedules(meta, a)).toHaveLength(1);
});
