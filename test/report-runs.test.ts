// The reports worker on the embedded meta store, with its clock in the test's hand: a schedule
// missed while no worker ran runs once, failures are retried with doubling waits up to the limit,
// files are mailed to a real SMTP server and posted to a real HTTP server with a signature that
// verifies, and the download route answers only the run's own organisation.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApiKeyAuthenticator } from '../lib/auth/api-key.auth.ts';
import { createLogger } from '../lib/logger.ts';
import {
  createApiKey,
  createOrganisation,
  upsertTrackedAccounts,
} from '../lib/meta/accounts.repo.ts';
import type { MetaStore } from '../lib/meta/meta.port.ts';
import { migrate } from '../lib/meta/migrate.ts';
import { createPgliteMeta } from '../lib/meta/pglite.meta.ts';
import {
  getRun,
  listDeliveries,
  listRuns,
  queueManualRun,
  runFile,
} from '../lib/meta/report-runs.repo.ts';
import {
  createReportSchedule,
  deleteReportSchedule,
  type ReportSchedule,
} from '../lib/meta/report-schedules.repo.ts';
import {
  parseReportScheduleInput,
  type ReportScheduleInput,
} from '../subgraphs/reports/report-schedule.input.ts';
import type { ReportWebhookBody } from '../subgraphs/reports/runs/report-delivery.ts';
import { createReportFileRoute } from '../subgraphs/reports/runs/report-file.route.ts';
import type { ReportRenderer } from '../subgraphs/reports/runs/report-renderer.port.ts';
import {
  startReportWorker,
  type ReportWorkerDeps,
} from '../subgraphs/reports/runs/report-worker.ts';
import { createSmtpMailer } from '../subgraphs/reports/runs/smtp.mailer.ts';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhook,
} from '../subgraphs/reports/runs/webhook-signature.ts';

const logger = createLogger('silent');
let meta: MetaStore;
let orgId: string;
let otherOrgId: string;

beforeAll(async () => {
  meta = await createPgliteMeta();
  await migrate(meta);
  orgId = await createOrganisation(meta, 'Reporters');
  otherOrgId = await createOrganisation(meta, 'Others');
  await upsertTrackedAccounts(meta, orgId, [{ id: 'a1', platform: 'x' }]);
});
afterAll(() => meta.close());

/** A renderer giving real bytes: the definition and the instant, as CSV. */
const csvRenderer: ReportRenderer = (definition, at) =>
  Promise.resolve({
    bytes: Buffer.from(`name,at\n${definition.name},${new Date(at).toISOString()}\n`),
    contentType: 'text/csv; charset=utf-8',
    fileName: `${definition.name}.csv`,
  });

async function define(
  change: Partial<ReportScheduleInput>,
  now: number = Date.now(),
): Promise<ReportSchedule> {
  const input: ReportScheduleInput = {
    name: 'Daily',
    format: 'csv',
    timezone: 'UTC',
    accountIds: ['a1'],
    metrics: ['likes'],
    ...change,
  };
  return createReportSchedule(meta, orgId, parseReportScheduleInput(input, new Date(now)));
}

function worker(extra: Partial<ReportWorkerDeps> & { now?: () => number }) {
  return startReportWorker({
    meta,
    render: csvRenderer,
    logger,
    ...extra,
    // Timers far off: the test ticks by hand.
    settings: { tickMs: 600_000, leaseMs: 60_000, ...extra.settings },
  });
}

describe('report worker', () => {
  test('a schedule missed while no worker ran runs once, for its latest tick', async () => {
    let clock = Date.parse('2030-01-06T08:00:00Z');
    const schedule = await define({ name: 'Missed', cron: '0 9 * * *' }, clock);
    expect(schedule.nextRunAt?.toISOString()).toBe('2030-01-06T09:00:00.000Z');
    const a = worker({ now: () => clock, owner: 'A' });
    const b = worker({ now: () => clock, owner: 'B' });
    try {
      await Promise.all([a.tick(), b.tick()]);
      expect(await listRuns(meta, orgId, schedule.id, 10)).toEqual([]);
      // Four ticks pass with every worker down.
      clock = Date.parse('2030-01-10T12:00:00Z');
      await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
      await Promise.all([a.idle(), b.idle()]);
      const runs = await listRuns(meta, orgId, schedule.id, 10);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ trigger: 'schedule', status: 'succeeded', attempts: 1 });
      expect(runs[0]?.dueAt.toISOString()).toBe('2030-01-10T09:00:00.000Z');
      const file = await runFile(meta, runs[0]!.id);
      expect(file?.bytes.toString()).toBe('name,at\nMissed,2030-01-10T09:00:00.000Z\n');
      const [stored] = await meta.query<{ next_run_at: Date }>(
        'SELECT next_run_at FROM report_schedules WHERE id = $1',
        [schedule.id],
      );
      expect(stored?.next_run_at.toISOString()).toBe('2030-01-11T09:00:00.000Z');
      // The next tick comes: one more run, not a catch-up burst.
      await Promise.all([a.tick(), b.tick()]);
      expect(await listRuns(meta, orgId, schedule.id, 10)).toHaveLength(1);
      clock = Date.parse('2030-01-11T09:00:30Z');
      await Promise.all([a.tick(), b.tick()]);
      await Promise.all([a.idle(), b.idle()]);
      expect(await listRuns(meta, orgId, schedule.id, 10)).toHaveLength(2);
      expect(a.stats.succeeded + b.stats.succeeded).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
      // Its cron would fire in the later tests' clocks too.
      await deleteReportSchedule(meta, orgId, schedule.id);
    }
  });

  test('a failing run is retried with doubling waits up to the limit, then failed', async () => {
    let clock = Date.parse('2031-03-01T10:00:00Z');
    const schedule = await define({ name: 'Broken' }, clock);
    let calls = 0;
    const w = worker({
      now: () => clock,
      render: () => Promise.reject(new Error(`olap unreachable (${++calls})`)),
      settings: { maxAttempts: 3, retryBackoffMs: 60_000 },
    });
    try {
      const run = (await queueManualRun(meta, orgId, schedule.id, new Date(clock)))!;
      const at = async (iso: string) => {
        clock = Date.parse(iso);
        const started = await w.tick();
        await w.idle();
        return started;
      };
      expect(await at('2031-03-01T10:00:00Z')).toBe(1);
      expect(await getRun(meta, orgId, run.id)).toMatchObject({
        status: 'queued',
        attempts: 1,
        error: 'olap unreachable (1)',
      });
      expect((await getRun(meta, orgId, run.id))?.nextAttemptAt.toISOString()).toBe(
        '2031-03-01T10:01:00.000Z',
      );
      expect(await at('2031-03-01T10:00:59Z')).toBe(0);
      expect(await at('2031-03-01T10:01:00Z')).toBe(1);
      // The second wait is twice the first.
      expect((await getRun(meta, orgId, run.id))?.nextAttemptAt.toISOString()).toBe(
        '2031-03-01T10:03:00.000Z',
      );
      expect(await at('2031-03-01T10:02:59Z')).toBe(0);
      expect(await at('2031-03-01T10:03:00Z')).toBe(1);
      const failed = await getRun(meta, orgId, run.id);
      expect(failed).toMatchObject({
        status: 'failed',
        attempts: 3,
        error: 'olap unreachable (3)',
        errors: ['olap unreachable (1)', 'olap unreachable (2)', 'olap unreachable (3)'],
        size: null,
      });
      expect(failed?.finishedAt?.toISOString()).toBe('2031-03-01T10:03:00.000Z');
      expect(await at('2031-03-02T10:00:00Z')).toBe(0);
      expect(calls).toBe(3);
    } finally {
      await w.close();
    }
  });
});

describe('deliveries', () => {
  let smtp: SMTPServer;
  let smtpPort: number;
  const mails: ParsedMail[] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((mail) => {
            mails.push(mail);
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    smtp.listen(0, '127.0.0.1');
    await once(smtp.server, 'listening');
    smtpPort = (smtp.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  test('mails the file to each recipient over SMTP, the attachment byte for byte', async () => {
    const schedule = await define({
      name: 'Mailed',
      recipients: ['ops@example.com', 'ceo@example.org'],
    });
    const mailer = createSmtpMailer({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      from: 'Loupe <reports@loupe.test>',
    });
    const w = worker({ mailer });
    try {
      const run = (await queueManualRun(meta, orgId, schedule.id, new Date()))!;
      expect(await w.tick()).toBe(1);
      await w.idle();
      expect(await getRun(meta, orgId, run.id)).toMatchObject({ status: 'succeeded' });
      const stored = await runFile(meta, run.id);
      expect(stored?.bytes.length).toBeGreaterThan(10);
      const received = mails.filter((m) => m.subject?.startsWith('Mailed'));
      expect(received.map((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '')).sort()).toEqual([
        'ceo@example.org',
        'ops@example.com',
      ]);
      for (const mail of received) {
        expect(mail.from?.text).toContain('reports@loupe.test');
        expect(mail.attachments).toHaveLength(1);
        expect(mail.attachments[0]?.filename).toBe('Mailed.csv');
        expect(Buffer.compare(mail.attachments[0]!.content, stored!.bytes)).toBe(0);
      }
      const deliveries = await listDeliveries(meta, [run.id]);
      expect(deliveries.map((d) => [d.channel, d.target, d.attempt, d.status]).sort()).toEqual([
        ['email', 'ceo@example.org', 1, 'sent'],
        ['email', 'ops@example.com', 1, 'sent'],
      ]);
    } finally {
      await w.close();
      mailer.close();
    }
  });

  test('an e-mail with no relay to send it is recorded as failed once: no retry can help', async () => {
    const schedule = await define({ name: 'Unmailable', recipients: ['ops@example.com'] });
    const w = worker({ settings: { delivery: { attempts: 2, backoffMs: 5 } } });
    try {
      const run = (await queueManualRun(meta, orgId, schedule.id, new Date()))!;
      await w.tick();
      await w.idle();
      const deliveries = await listDeliveries(meta, [run.id]);
      expect(deliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 'failed']]);
      expect(deliveries[0]?.error).toMatch(/no SMTP relay is configured/);
      // The report itself was made: the run succeeded, its delivery did not.
      expect(await getRun(meta, orgId, run.id)).toMatchObject({ status: 'succeeded' });
    } finally {
      await w.close();
    }
  });

  test('posts a signed JSON to each webhook, retrying a 500, both attempts recorded', async () => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(received.length === 1 ? 500 : 200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/loupe`;
    const schedule = await define({ name: 'Hooked', webhookUrls: [url] });
    const w = worker({ settings: { delivery: { attempts: 3, backoffMs: 10 } } });
    try {
      const run = (await queueManualRun(meta, orgId, schedule.id, new Date()))!;
      await w.tick();
      await w.idle();
      expect(received).toHaveLength(2);
      const stored = await runFile(meta, run.id);
      for (const r of received) {
        const headers = {
          signature: r.headers[SIGNATURE_HEADER] as string,
          timestamp: r.headers[TIMESTAMP_HEADER] as string,
        };
        expect(headers.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(verifyWebhook(schedule.webhookSecret, headers, r.body, Date.now())).toBe(true);
        expect(verifyWebhook('another secret', headers, r.body, Date.now())).toBe(false);
        expect(verifyWebhook(schedule.webhookSecret, headers, r.body + ' ', Date.now())).toBe(
          false,
        );
        const body = JSON.parse(r.body) as ReportWebhookBody;
        expect(body).toMatchObject({
          runId: run.id,
          status: 'succeeded',
          definition: { id: schedule.id, name: 'Hooked', format: 'csv' },
          file: { name: 'Hooked.csv', size: stored!.bytes.length },
        });
        expect(body.file.downloadUrl).toMatch(new RegExp(`/v1/reports/runs/${run.id}/file$`));
        expect(Buffer.from(body.file.base64 ?? '', 'base64').equals(stored!.bytes)).toBe(true);
      }
      const deliveries = await listDeliveries(meta, [run.id]);
      expect(deliveries.map((d) => [d.channel, d.target, d.attempt, d.status, d.error])).toEqual([
        ['webhook', url, 1, 'failed', 'webhook answered HTTP 500'],
        ['webhook', url, 2, 'sent', null],
      ]);
    } finally {
      await w.close();
      server.close();
    }
  });
});

describe('GET /v1/reports/runs/:id/file', () => {
  let server: Server;
  let base: string;
  let key: string;
  let otherKey: string;
  let runId: string;
  let bytes: Buffer;

  beforeAll(async () => {
    key = await createApiKey(meta, orgId, 'files');
    otherKey = await createApiKey(meta, otherOrgId, 'files');
    const route = createReportFileRoute({ authenticate: createApiKeyAuthenticator(meta), meta });
    server = createServer((req, res) => {
      route(req, res)
        .then((answered) => {
          if (!answered) res.writeHead(418).end('not mine');
        })
        .catch(() => res.writeHead(500).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const schedule = await define({ name: 'Résumé Q1' });
    const w = worker({});
    runId = (await queueManualRun(meta, orgId, schedule.id, new Date()))!.id;
    await w.tick();
    await w.idle();
    await w.close();
    bytes = (await runFile(meta, runId))!.bytes;
  });
  afterAll(() => server.close());

  test('answers the owner 200 with the bytes, type and attachment name', async () => {
    const res = await fetch(`${base}/v1/reports/runs/${runId}/file`, {
      headers: { 'x-api-key': key },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="R_sum_ Q1.csv"; filename*=UTF-8''R%C3%A9sum%C3%A9%20Q1.csv`,
    );
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test('401 without a key or with a wrong one', async () => {
    const tries: Record<string, string>[] = [{}, { 'x-api-key': 'loupe_not_a_key_0000000000' }];
    for (const headers of tries) {
      const res = await fetch(`${base}/v1/reports/runs/${runId}/file`, { headers });
      expect(res.status).toBe(401);
    }
  });

  test('404 for another organisation, and for a run with no file', async () => {
    const other = await fetch(`${base}/v1/reports/runs/${runId}/file`, {
      headers: { 'x-api-key': otherKey },
    });
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain('R');
    const ghost = await fetch(`${base}/v1/reports/runs/no-such-run/file`, {
      headers: { 'x-api-key': key },
    });
    expect(ghost.status).toBe(404);
  });

  test('other paths are left to the next handler', async () => {
    const res = await fetch(`${base}/v1/reports/runs/${runId}`, { headers: { 'x-api-key': key } });
    expect(res.status).toBe(418);
  });
});
