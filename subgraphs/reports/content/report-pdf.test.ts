// The PDF read back with poppler: its text, every page rendered, each chart's plot holding
// coloured line pixels where the layout says it was drawn, and its fonts embedded.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { sampleReport } from './report-data.fixture.ts';
import { formatNumber, localDateTime } from './report-format.ts';
import { renderPdf, renderPdfWithLayout, type PdfLayout } from './report-pdf.ts';

const run = promisify(execFile);
const data = sampleReport({ accounts: 20, metrics: 10, days: 30 });
let dir: string;
let file: string;
let layout: PdfLayout;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loupe-report-pdf-'));
  file = join(dir, 'report.pdf');
  const rendered = await renderPdfWithLayout(data);
  layout = rendered.layout;
  await writeFile(file, rendered.pdf);
});

interface Image {
  width: number;
  height: number;
  pixel(x: number, y: number): [number, number, number];
}

/** Binary PPM (P6, maxval 255) as pdftoppm writes it. */
function readPpm(bytes: Buffer): Image {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 40).toString('latin1'));
  if (!header) throw new Error('not a P6 PPM with maxval 255');
  const width = Number(header[1]);
  const height = Number(header[2]);
  const start = header[0].length;
  expect(bytes.length - start).toBe(width * height * 3);
  return {
    width,
    height,
    pixel: (x, y) => {
      const i = start + (y * width + x) * 3;
      return [bytes[i]!, bytes[i + 1]!, bytes[i + 2]!];
    },
  };
}

describe('renderPdf', () => {
  test('the text holds the organisation, the range, the time zone and the KPI values', async () => {
    const { stdout } = await run('pdftotext', ['-layout', file, '-']);
    const text = stdout.replace(/\s+/g, ' ');
    expect(text).toContain(data.organisation.name);
    expect(text).toContain(data.title);
    expect(text).toContain(localDateTime(data.range.from, data.timeZone));
    expect(text).toContain(localDateTime(data.range.to, data.timeZone));
    expect(text).toContain('America/Los_Angeles');
    for (const s of [data.summaries[0]!, data.summaries[57]!, data.summaries.at(-1)!]) {
      expect(text).toContain(formatNumber(s.total));
      expect(text).toContain(formatNumber(s.previousTotal));
    }
    expect(text).toContain('Alt text: ');
    expect(text).toContain('Competitor set: Outdoor brands');
  });

  test('every page renders to PNG', async () => {
    await run('pdftoppm', ['-png', '-r', '60', file, join(dir, 'page')]);
    const pngs = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
    expect(pngs).toHaveLength(layout.pages);
    expect(layout.pages).toBeGreaterThan(10);
    for (const png of pngs) {
      const bytes = await readFile(join(dir, png));
      expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    }
  });

  test('each chart is drawn: coloured line pixels inside its plot, white outside the page body', async () => {
    expect(layout.charts.map((c) => c.metric)).toEqual(data.metrics);
    await run('pdftoppm', ['-r', '50', file, join(dir, 'raster')]);
    const ppms = (await readdir(dir)).filter((f) => f.endsWith('.ppm')).sort();
    expect(ppms).toHaveLength(layout.pages);
    const scale = 50 / 72;
    for (const chart of layout.charts) {
      const image = readPpm(await readFile(join(dir, ppms[chart.page]!)));
      let coloured = 0;
      let dark = 0;
      const { x, y, width, height } = chart.plot;
      for (let py = Math.ceil(y * scale) + 1; py < (y + height) * scale - 1; py++) {
        for (let px = Math.ceil(x * scale) + 1; px < (x + width) * scale - 1; px++) {
          const [r, g, b] = image.pixel(px, py);
          if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
          if (r + g + b < 600) dark++;
        }
      }
      expect(coloured, `${chart.metric} on page ${chart.page + 1}`).toBeGreaterThan(200);
      expect(dark, chart.metric).toBeGreaterThan(coloured / 2);
      // The right margin strip of the page stays white: nothing drawn past the body.
      for (let py = 60; py < image.height - 60; py += 7) {
        expect(image.pixel(image.width - 5, py)).toEqual([255, 255, 255]);
      }
    }
  });

  test('the fonts are embedded TrueType (DejaVu Sans), none left to the viewer', async () => {
    const { stdout } = await run('pdffonts', [file]);
    const fonts = stdout.trim().split('\n').slice(2);
    expect(fonts.length).toBeGreaterThanOrEqual(2);
    for (const line of fonts) {
      expect(line).toMatch(/DejaVuSans/);
      const [emb] = line.split(/\s+/).slice(-5);
      expect(emb, line).toBe('yes');
    }
  });

  test('a report without accounts or posts still renders, saying so', async () => {
    const empty = {
      ...sampleReport({ accounts: 1, metrics: 1 }),
      accounts: [],
      summaries: [],
      topPosts: [],
      comparison: null,
    };
    const pdf = await renderPdf(empty);
    const path = join(dir, 'empty.pdf');
    await writeFile(path, pdf);
    const { stdout } = await run('pdftotext', [path, '-']);
    expect(stdout).toContain('No tracked accounts in this report.');
    expect(stdout).toContain('No posts were published in this period.');
  });
});
