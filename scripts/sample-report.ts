// `npm run sample-report`: with `npm start` running, makes the demo's weekly report now, as PDF
// and as CSV, through the API (runReport, then the file download), and writes both to
// .loupe/reports/. It shows the whole path a scheduled report takes, without waiting for Monday.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../lib/config.ts';
import { DEMO_REPORT_NAME, demoGraphQL, ensureDemoBenchmarking } from './demo/demo-benchmarking.ts';
import { runCommand } from './run-command.ts';

interface Schedule {
  id: string;
  name: string;
  format: string;
  cron: string | null;
  timezone: string;
  competitorSetId: string | null;
  metrics: string[];
  rangeRule: string;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const gateway = `http://${config.host}:${config.ports.gateway}/graphql`;
  const gql = demoGraphQL(gateway, config.demo.apiKey);
  const pdfId = await ensureDemoBenchmarking(gql).catch((error: unknown) => {
    throw new Error(
      `cannot reach Loupe at ${gateway} (${error instanceof Error ? error.message : String(error)}); start it with npm start`,
    );
  });
  // The CSV twin of the weekly report, without a schedule: it runs only when asked.
  const { reportSchedules } = await gql<{ reportSchedules: Schedule[] }>(
    '{ reportSchedules { id name format cron timezone competitorSetId metrics rangeRule } }',
  );
  const pdf = reportSchedules.find((s) => s.id === pdfId)!;
  const csvName = `${DEMO_REPORT_NAME} (CSV)`;
  let csvId = reportSchedules.find((s) => s.name === csvName)?.id;
  if (!csvId) {
    const { createReportSchedule } = await gql<{ createReportSchedule: { id: string } }>(
      'mutation($input: ReportScheduleInput!) { createReportSchedule(input: $input) { id } }',
      {
        input: {
          name: csvName,
          format: 'CSV',
          timezone: pdf.timezone,
          ...(pdf.competitorSetId && { competitorSetId: pdf.competitorSetId }),
          metrics: pdf.metrics,
          rangeRule: pdf.rangeRule,
        },
      },
    );
    csvId = createReportSchedule.id;
  }
  const out = resolve('.loupe/reports');
  await mkdir(out, { recursive: true });
  for (const [id, ext] of [
    [pdfId, 'pdf'],
    [csvId, 'csv'],
  ] as const) {
    const started = Date.now();
    const { runReport } = await gql<{ runReport: { id: string } }>(
      'mutation($id: ID!) { runReport(id: $id) { id } }',
      { id },
    );
    console.log(`${ext.toUpperCase()}: run ${runReport.id} queued`);
    for (;;) {
      const { reportRun } = await gql<{
        reportRun: { status: string; error: string | null; attempts: number; size: number | null };
      }>('query($id: ID!) { reportRun(id: $id) { status error attempts size } }', {
        id: runReport.id,
      });
      if (reportRun.status === 'SUCCEEDED') break;
      if (reportRun.status === 'FAILED')
        throw new Error(`the ${ext} run failed: ${reportRun.error}`);
      if (Date.now() - started > 120_000)
        throw new Error(`the ${ext} run is still ${reportRun.status} after 2 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const res = await fetch(
      `http://${config.host}:${config.ports.gateway}/v1/reports/runs/${runReport.id}/file`,
      { headers: { 'x-api-key': config.demo.apiKey } },
    );
    if (!res.ok) throw new Error(`downloading the ${ext}: HTTP ${res.status} ${await res.text()}`);
    const file = join(out, `sample-report.${ext}`);
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    console.log(`${ext.toUpperCase()}: ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

runCommand(main);
