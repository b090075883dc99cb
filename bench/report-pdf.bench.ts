// `npm run bench -- report-pdf [--runs 20] [--warmup 3] [--accounts 20] [--metrics 10] [--days 30]`:
// the time to render a report's PDF (cover, KPI table, a chart per metric, top posts, competitor
// comparison) from its data, beside two baselines in the same run: the CSV of the same data, and
// the PDF of one account. The data is synthetic: this measures rendering, not the queries.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { renderCsv } from '../subgraphs/reports/content/report-csv.ts';
import { sampleReport } from '../subgraphs/reports/content/report-data.fixture.ts';
import { renderPdf } from '../subgraphs/reports/content/report-pdf.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { describe, percentiles, progress } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    warmup: { type: 'string' },
    accounts: { type: 'string' },
    metrics: { type: 'string' },
    days: { type: 'string' },
  },
  strict: false,
});
const runs = Number(values.runs ?? 20);
const warmup = Number(values.warmup ?? 3);
const accounts = Number(values.accounts ?? 20);
const metrics = Number(values.metrics ?? 10);
const days = Number(values.days ?? 30);
const say = (text: string) => progress('report-pdf', text);

const full = sampleReport({ accounts, metrics, days });
const single = sampleReport({ accounts: 1, metrics, days });

async function measure(
  name: string,
  render: () => unknown,
): Promise<ReturnType<typeof percentiles>> {
  for (let i = 0; i < warmup; i++) await render();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await render();
    samples.push(performance.now() - t);
  }
  const p = percentiles(samples);
  say(`${name}: ${describe(p)}`);
  return p;
}

const shape = `${accounts} accounts × ${metrics} metrics × ${days} days`;
say(`${shape}; ${runs} runs each after ${warmup} warm-up`);
const csv = await measure('CSV of the same data', () => renderCsv(full));
const one = await measure('PDF of one account', () => renderPdf(single));
const pdf = await measure(`PDF, ${shape}`, () => renderPdf(full));
say(`PDF size ${((await renderPdf(full)).length / 1024).toFixed(0)} KiB`);

const bench = 'report-pdf';
const figures: Figure[] = [
  { bench, name: 'CSV of the same data p50', value: csv.p50, unit: 'ms' },
  { bench, name: 'PDF of one account p50', value: one.p50, unit: 'ms' },
  {
    bench,
    name: `PDF (${accounts} accounts, ${metrics} metrics) p50`,
    value: pdf.p50,
    unit: 'ms',
    target: { op: '<=', value: 2000 },
    baseline: { name: 'PDF of one account, p50', value: one.p50 },
  },
  {
    bench,
    name: `PDF (${accounts} accounts, ${metrics} metrics) p95`,
    value: pdf.p95,
    unit: 'ms',
    target: { op: '<=', value: 2000 },
    baseline: { name: 'CSV of the same data, p95', value: csv.p95 },
  },
];
publishFigures(figures);
