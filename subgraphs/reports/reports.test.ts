import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKeyAuthenticator } from '../../lib/auth/api-key.auth.ts';
import type { Authenticator } from '../../lib/auth/caller.ts';
import { serveGraphQL, type ServedGraphQL } from '../../lib/graphql/serve.ts';
import {
  createApiKey,
  createOrganisation,
  upsertTrackedAccounts,
} from '../../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../../lib/meta/meta.port.ts';
import { migrate } from '../../lib/meta/migrate.ts';
import { createPgliteMeta } from '../../lib/meta/pglite.meta.ts';
import { createLogger } from '../../lib/logger.ts';
import { nextRunAt } from './report-schedule.input.ts';
import { startReportWorker } from './runs/report-worker.ts';
import { createReportsSubgraph } from './server.ts';
import { postAsGateway, testTokens, type Reply } from '../../test/support/graphql-http.ts';

interface ScheduleOut {
  id: string;
  name: string;
  format: string;
  cron: string;
  timezone: string;
  accounts: { id: string }[];
  metrics: string[];
  recipients: string[];
  nextRunAt: string | null;
  createdAt: string;
}

let meta: MetaStore;
let authenticate: Authenticator;
let served: ServedGraphQL;
let keyA: string;
let keyB: string;
let orgA: string;

beforeAll(async () => {
  meta = await createPgliteMeta();
  authenticate = createApiKeyAuthenticator(meta);
  await migrate(meta);
  orgA = await createOrganisation(meta, 'A');
  const orgB = await createOrganisation(meta, 'B');
  keyA = await createApiKey(meta, orgA, 'test');
  keyB = await createApiKey(meta, orgB, 'test');
  await upsertTrackedAccounts(meta, orgA, [
    { id: 'a1', platform: 'x' },
    { id: 'a2', platform: 'facebook' },
  ]);
  await upsertTrackedAccounts(meta, orgB, [{ id: 'b1', platform: 'app' }]);
  const subgraph = createReportsSubgraph({ meta, tokens: testTokens });
  served = await serveGraphQL({ ...subgraph, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await served.close();
  await meta.close();
});

function gql(
  key: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Reply> {
  return postAsGateway(authenticate, served.url, key, query, variables);
}

const FIELDS =
  'id name format cron timezone accounts { id } metrics recipients nextRunAt createdAt';
const CREATE = `mutation ($input: ReportScheduleInput!) { createReportSchedule(input: $input) { ${FIELDS} } }`;
const LIST = `{ reportSchedules { ${FIELDS} } }`;
const DELETE = 'mutation ($id: ID!) { deleteReportSchedule(id: $id) }';

const weekly = {
  name: 'Weekly digest',
  format: 'PDF',
  cron: '0 9 * * 1',
  timezone: 'Europe/Paris',
  accountIds: ['a1', 'a2'],
  metrics: ['likes', 'POST_COUNT', 'LIKES'],
  recipients: ['ops@example.com', 'Ops@Example.com', 'ceo@example.co.uk'],
};

function codes(reply: Reply): (string | undefined)[] {
  return (reply.errors ?? []).map((e) => e.extensions?.code);
}

async function create(key: string, input: Record<string, unknown>): Promise<ScheduleOut> {
  const reply = await gql(key, CREATE, { input });
  expect(reply.errors).toBeUndefined();
  return reply.data?.['createReportSchedule'] as ScheduleOut;
}

describe('reports subgraph over HTTP', () => {
  test('creates, lists and deletes a schedule, with its next run in its timezone', async () => {
    const created = await create(keyA, weekly);
    expect(created).toMatchObject({
      name: 'Weekly digest',
      format: 'PDF',
      cron: '0 9 * * 1',
      timezone: 'Europe/Paris',
      accounts: [{ id: 'a1' }, { id: 'a2' }],
      metrics: ['LIKES', 'POST_COUNT'],
      recipients: ['ops@example.com', 'ceo@example.co.uk'],
    });
    const next = new Date(created.nextRunAt ?? NaN);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600_000);
    const parisClock = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    }).format(next);
    expect(parisClock).toBe('Mon 09:00');
    expect(created.nextRunAt).toBe(nextRunAt('0 9 * * 1', 'Europe/Paris')?.toISOString());

    const csv = await create(keyA, {
      ...weekly,
      name: 'Hourly CSV',
      format: 'CSV',
      cron: ' 0  *  * * * ',
      timezone: undefined,
    });
    expect(csv).toMatchObject({ format: 'CSV', cron: '0 * * * *', timezone: 'UTC' });

    const listed = (await gql(keyA, LIST)).data?.['reportSchedules'] as ScheduleOut[];
    expect(listed.map((s) => s.name)).toEqual(['Weekly digest', 'Hourly CSV']);
    expect(listed[0]).toEqual(created);

    expect((await gql(keyA, DELETE, { id: created.id })).data).toEqual({
      deleteReportSchedule: true,
    });
    expect((await gql(keyA, DELETE, { id: created.id })).data).toEqual({
      deleteReportSchedule: false,
    });
    const after = (await gql(keyA, LIST)).data?.['reportSchedules'] as ScheduleOut[];
    expect(after.map((s) => s.id)).toEqual([csv.id]);
    await gql(keyA, DELETE, { id: csv.id });
  });

  test('refuses bad input with BAD_USER_INPUT and says what is wrong', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: '  ' }, /name must not be empty/],
      [{ cron: '61 * * * *' }, /cron "61 \* \* \* \*" is not valid: .*minute/],
      [{ cron: 'every monday' }, /cron must have five fields/],
      [{ cron: '0 0 9 * * 1' }, /cron must have five fields/],
      [{ cron: '@daily' }, /cron must have five fields/],
      [{ cron: '0 9 31 2 *' }, /never fires/],
      [{ timezone: 'Mars/Olympus' }, /unknown timezone "Mars\/Olympus"/],
      [{ timezone: '' }, /unknown timezone/],
      [
        { recipients: ['ops@example.com', 'not-an-email', 'a@b'] },
        /not email addresses: "not-an-email", "a@b"/,
      ],
      [
        { metrics: ['likes', 'Likes', 'retweets'] },
        /unknown metrics "Likes", "retweets"; known: LIKES/,
      ],
      [{ metrics: [] }, /at least one metric/],
      [{ accountIds: [] }, /at least one account/],
      [{ accountIds: null }, /at least one account/],
      [{ accountIds: ['a1', 'b1', 'ghost'] }, /not tracked by this organisation: "b1", "ghost"/],
      [
        { webhookUrls: ['ftp://example.com/x'] },
        /absolute http\(s\) URLs: "ftp:\/\/example.com\/x"/,
      ],
      [{ webhookUrls: ['not a url'] }, /absolute http\(s\) URLs/],
      [{ accountIds: [], competitorSetId: 'no-such-set' }, /no competitor set "no-such-set"/],
      [{ competitorSetId: 'no-such-set' }, /not both/],
    ];
    for (const [change, message] of cases) {
      const reply = await gql(keyA, CREATE, { input: { ...weekly, ...change } });
      expect(codes(reply), JSON.stringify(change)).toEqual(['BAD_USER_INPUT']);
      expect(reply.errors?.[0]?.message).toMatch(message);
    }
    const badFormat = await gql(keyA, CREATE, { input: { ...weekly, format: 'DOCX' } });
    expect(codes(badFormat)).toEqual(['BAD_USER_INPUT']);
    expect((await gql(keyA, LIST)).data).toEqual({ reportSchedules: [] });
  });

  test('updates a definition, runs it on demand and lists its runs with their deliveries', async () => {
    const created = await create(keyA, {
      ...weekly,
      cron: undefined,
      webhookUrls: ['https://hooks.example.com/loupe'],
    });
    expect(created).toMatchObject({ cron: null, nextRunAt: null });
    const secret = await gql(
      keyA,
      `{ reportSchedules { id webhookSecret webhookUrls rangeRule } }`,
    );
    const mine = (secret.data?.['reportSchedules'] as Record<string, unknown>[]).find(
      (s) => s['id'] === created.id,
    );
    expect(mine).toMatchObject({
      webhookUrls: ['https://hooks.example.com/loupe'],
      rangeRule: 'LAST_7_DAYS',
    });
    expect(mine?.['webhookSecret']).toMatch(/^[0-9a-f]{64}$/);
    const memberKey = await createApiKey(meta, orgA, 'member', undefined, { role: 'member' });
    const asMember = await gql(memberKey, `{ reportSchedules { id webhookSecret } }`);
    expect(
      (asMember.data?.['reportSchedules'] as Record<string, unknown>[]).map(
        (s) => s['webhookSecret'],
      ),
    ).toEqual([null]);

    const UPDATE = `mutation ($id: ID!, $input: ReportScheduleInput!) {
      updateReportSchedule(id: $id, input: $input) { id name cron rangeRule nextRunAt } }`;
    const updated = await gql(keyA, UPDATE, {
      id: created.id,
      input: {
        ...weekly,
        name: 'Monthly',
        cron: '0 8 1 * *',
        rangeRule: 'PREVIOUS_MONTH',
        webhookUrls: ['https://hooks.example.com/loupe'],
      },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data?.['updateReportSchedule']).toMatchObject({
      id: created.id,
      name: 'Monthly',
      cron: '0 8 1 * *',
      rangeRule: 'PREVIOUS_MONTH',
    });
    const refused = await gql(keyA, UPDATE, {
      id: created.id,
      input: { ...weekly, cron: '99 * * * *' },
    });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    const foreign = await gql(keyB, UPDATE, {
      id: created.id,
      input: { ...weekly, accountIds: ['b1'] },
    });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);

    const RUN =
      'mutation ($id: ID!) { runReport(id: $id) { id status trigger attempts queuedAt } }';
    const ran = await gql(keyA, RUN, { id: created.id });
    expect(ran.errors).toBeUndefined();
    const run = ran.data?.['runReport'] as Record<string, unknown>;
    expect(run).toMatchObject({ status: 'QUEUED', trigger: 'MANUAL', attempts: 0 });
    expect(codes(await gql(keyB, RUN, { id: created.id }))).toEqual(['NOT_FOUND']);

    const worker = startReportWorker({
      meta,
      logger: createLogger('silent'),
      render: (definition) =>
        Promise.resolve({
          bytes: Buffer.from(`name\n${definition.name}\n`),
          contentType: 'text/csv',
          fileName: 'r.csv',
        }),
      settings: { tickMs: 600_000, delivery: { attempts: 1, backoffMs: 1, webhookTimeoutMs: 500 } },
    });
    await worker.tick();
    await worker.idle();
    await worker.close();

    const HISTORY = `query ($id: ID!) { reportRuns(scheduleId: $id, first: 5) {
      id status attempts size fileUrl startedAt finishedAt error
      deliveries { channel target attempt status error } } }`;
    const history = await gql(keyA, HISTORY, { id: created.id });
    expect(history.errors).toBeUndefined();
    const [only] = history.data?.['reportRuns'] as Record<string, unknown>[];
    expect(only).toMatchObject({
      id: run['id'],
      status: 'SUCCEEDED',
      attempts: 1,
      size: 'name\nMonthly\n'.length,
      fileUrl: `/v1/reports/runs/${String(run['id'])}/file`,
    });
    const deliveries = only?.['deliveries'] as Record<string, unknown>[];
    expect(deliveries.map((d) => [d['channel'], d['target'], d['status']]).sort()).toEqual([
      ['EMAIL', 'ceo@example.co.uk', 'FAILED'],
      ['EMAIL', 'ops@example.com', 'FAILED'],
      ['WEBHOOK', 'https://hooks.example.com/loupe', 'FAILED'],
    ]);
    expect((await gql(keyB, HISTORY, { id: created.id })).data).toEqual({ reportRuns: [] });
    await gql(keyA, DELETE, { id: created.id });
  });

  test('answers UNAUTHENTICATED (401) without a key or with a wrong one', async () => {
    for (const key of [undefined, 'loupe_not_a_real_key_000000']) {
      const reply = await gql(key, CREATE, { input: weekly });
      expect(reply.status).toBe(401);
      expect(codes(reply)).toEqual(['UNAUTHENTICATED']);
    }
    expect((await gql(keyA, LIST)).data).toEqual({ reportSchedules: [] });
  });

  test('organisation B sees, deletes and reports on nothing of organisation A', async () => {
    const created = await create(keyA, weekly);
    expect((await gql(keyB, LIST)).data).toEqual({ reportSchedules: [] });
    expect((await gql(keyB, DELETE, { id: created.id })).data).toEqual({
      deleteReportSchedule: false,
    });
    const borrowed = await gql(keyB, CREATE, { input: { ...weekly, accountIds: ['a1'] } });
    expect(codes(borrowed)).toEqual(['BAD_USER_INPUT']);
    const own = await create(keyB, { ...weekly, accountIds: ['b1'] });
    const listA = (await gql(keyA, LIST)).data?.['reportSchedules'] as ScheduleOut[];
    expect(listA.map((s) => s.id)).toEqual([created.id]);
    expect(listA.map((s) => s.id)).not.toContain(own.id);
  });
});
