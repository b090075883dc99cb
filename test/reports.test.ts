// Reports end to end on the embedded product: a definition made through the API runs by
// runReport in the reports role's worker, and its file is downloaded with the API key. The CSV's
// totals are recounted from the events posted; the PDF is read back with pdftotext.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';
import { postGraphQL } from './support/graphql-http.ts';
import { waitForValue } from './support/wait-for.ts';

const KEY = `loupe_reports_${randomBytes(8).toString('hex')}`;
const DAY = 86_400_000;
let loupe: RunningLoupe;
let gateway: string;
const likes = new Map<string, number>();

const gql = <T>(query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL<T>(gateway, KEY, query, variables);

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY, { LOUPE_REPORTS_TICK_MS: '200' });
  gateway = loupe.urls.gateway!;
  // Likes over the last 7 whole days in UTC (the report's range), and some before it.
  const today = Math.floor(Date.now() / DAY) * DAY;
  const events: EventInput[] = [];
  for (const account of ['ig-report-a', 'x-report-b']) {
    likes.set(account, 0);
    for (let d = 1; d <= 10; d++) {
      const value = 10 * d + (account === 'ig-report-a' ? 1 : 2);
      events.push({
        id: `${account}-likes-${d}`,
        type: 'engagement',
        platform: account.startsWith('ig') ? 'instagram' : 'x',
        accountId: account,
        occurredAt: new Date(today - d * DAY + 3_600_000).toISOString(),
        metric: 'likes',
        mode: 'delta',
        value,
      });
      if (d <= 7) likes.set(account, likes.get(account)! + value);
    }
  }
  const res = await fetch(`${loupe.urls.ingest}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ events }),
  });
  expect(res.status).toBe(200);
  await loupe.caughtUp(30_000);
}, 120_000);

afterAll(async () => {
  await loupe?.close();
});

async function runToFile(format: 'PDF' | 'CSV'): Promise<{ bytes: Buffer; contentType: string }> {
  const created = await gql<{ createReportSchedule: { id: string } }>(
    `mutation($input: ReportScheduleInput!) { createReportSchedule(input: $input) { id } }`,
    {
      input: {
        name: `Weekly ${format}`,
        format,
        timezone: 'UTC',
        accountIds: ['ig-report-a', 'x-report-b'],
        metrics: ['likes', 'comments'],
        rangeRule: 'LAST_7_DAYS',
      },
    },
  );
  expect(created.errors).toBeUndefined();
  const run = await gql<{ runReport: { id: string; status: string } }>(
    'mutation($id: ID!) { runReport(id: $id) { id status } }',
    { id: created.data!.createReportSchedule.id },
  );
  expect(run.errors).toBeUndefined();
  const done = await waitForValue(
    'the run to succeed',
    async () => {
      const reply = await gql<{
        reportRun: { status: string; fileUrl: string | null; error: string | null };
      }>('query($id: ID!) { reportRun(id: $id) { status fileUrl error } }', {
        id: run.data!.runReport.id,
      });
      const r = reply.data?.reportRun;
      if (r?.status === 'FAILED') throw new Error(`the run failed: ${r.error}`);
      return r?.status === 'SUCCEEDED' ? r : undefined;
    },
    60_000,
  );
  const url = new URL(`/v1/reports/runs/${run.data!.runReport.id}/file`, gateway);
  expect(done.fileUrl).toContain(`/v1/reports/runs/${run.data!.runReport.id}/file`);
  expect((await fetch(url)).status).toBe(401);
  const res = await fetch(url, { headers: { 'x-api-key': KEY } });
  expect(res.status).toBe(200);
  return {
    bytes: Buffer.from(await res.arrayBuffer()),
    contentType: res.headers.get('content-type') ?? '',
  };
}

describe('reports through the product', () => {
  test('a CSV run holds the totals a recount of the events gives', async () => {
    const { bytes, contentType } = await runToFile('CSV');
    expect(contentType).toMatch(/^text\/csv/);
    const lines = bytes.toString('utf8').trim().split(/\r\n/);
    const header = lines[0]!.split(',');
    const col = (name: string) => header.indexOf(name);
    expect(col('account_id')).toBeGreaterThanOrEqual(0);
    const totals = lines
      .slice(1)
      .map((l) => l.split(','))
      .filter((f) => f[col('section')] === 'total' && f[col('metric')] === 'likes');
    const byAccount = new Map(totals.map((f) => [f[col('account_id')], Number(f[col('value')])]));
    expect(byAccount).toEqual(likes);
  });

  test('a PDF run opens and its text names the organisation and the KPIs', async () => {
    const { bytes, contentType } = await runToFile('PDF');
    expect(contentType).toBe('application/pdf');
    const dir = await mkdtemp(join(tmpdir(), 'loupe-report-'));
    const file = join(dir, 'report.pdf');
    await writeFile(file, bytes);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Weekly PDF');
    for (const total of likes.values()) expect(text).toContain(String(total));
    // Every page renders.
    execFileSync('pdftoppm', ['-png', '-r', '30', file, join(dir, 'page')]);
  });
});
