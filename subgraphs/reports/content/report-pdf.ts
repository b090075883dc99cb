// The report as a PDF (pdfkit, A4, DejaVu Sans embedded): a cover, the key figures against the
// previous period, a line chart per metric with a line per account, the top posts with their
// alt text, and the competitor comparison when the report covers a set.
import PDFDocument from 'pdfkit';
import { SERIES_COLOURS, chartHeight, drawLineChart, fitText, type Box } from './line-chart.ts';
import type { ReportData } from './report-data.ts';
import {
  formatNumber,
  formatPercent,
  formatSigned,
  localDateTime,
  localDay,
  rangeText,
} from './report-format.ts';
import { reportFonts } from './report-fonts.ts';

type Doc = InstanceType<typeof PDFDocument>;

export const PAGE = { width: 595.28, height: 841.89, margin: 40 } as const;
const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;
const TOP = 64;
const BOTTOM = PAGE.height - PAGE.margin;
const PLOT_HEIGHT = 200;
const CHART_GAP = 26;

/** Where each chart's plot was drawn: page index from 0, box in points from the top left. */
export interface PdfLayout {
  pages: number;
  charts: { metric: string; page: number; plot: Box }[];
}

export async function renderPdf(data: ReportData): Promise<Buffer> {
  return (await renderPdfWithLayout(data)).pdf;
}

export async function renderPdfWithLayout(
  data: ReportData,
): Promise<{ pdf: Buffer; layout: PdfLayout }> {
  const fonts = reportFonts();
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    font: fonts.regular as unknown as string,
    bufferPages: true,
    displayTitle: true,
    lang: 'en',
    info: {
      Title: data.title,
      Author: data.organisation.name,
      Subject: rangeText(data.range, data.timeZone),
      Creator: 'Loupe',
      CreationDate: new Date(data.generatedAt),
    },
  });
  doc.registerFont('regular', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  const layout: PdfLayout = { pages: 0, charts: [] };
  drawCover(doc, data);
  drawKpis(doc, data);
  drawCharts(doc, data, layout);
  drawPosts(doc, data);
  if (data.comparison) drawComparison(doc, data);

  const range = doc.bufferedPageRange();
  layout.pages = range.count;
  for (let i = 1; i < range.count; i++) {
    doc.switchToPage(i);
    doc.font('regular').fontSize(7.5).fillColor('#666666');
    doc.text(fitText(doc, `${data.organisation.name} · ${data.title}`, 380), PAGE.margin, 24, {
      lineBreak: false,
    });
    doc.text(`Page ${i + 1} of ${range.count}`, PAGE.width - PAGE.margin - 100, 24, {
      width: 100,
      align: 'right',
      lineBreak: false,
    });
    doc
      .lineWidth(0.5)
      .strokeColor('#cccccc')
      .moveTo(PAGE.margin, 36)
      .lineTo(PAGE.width - PAGE.margin, 36)
      .stroke();
  }
  doc.end();
  await done;
  return { pdf: Buffer.concat(chunks), layout };
}

function heading(doc: Doc, text: string, y = TOP - 6): number {
  doc.font('bold').fontSize(14).fillColor('#111111').text(text, PAGE.margin, y, {
    lineBreak: false,
  });
  return y + 24;
}

function drawCover(doc: Doc, data: ReportData): void {
  const zone = data.timeZone;
  doc.rect(0, 0, PAGE.width, 8).fill('#1f5fbf');
  doc.font('bold').fontSize(24).fillColor('#111111');
  doc.text(data.title, PAGE.margin, 150, { width: CONTENT_WIDTH, height: 90, ellipsis: true });
  doc.font('regular').fontSize(14).fillColor('#333333');
  doc.text(data.organisation.name, PAGE.margin, doc.y + 6, { width: CONTENT_WIDTH });
  const facts: [string, string][] = [
    ['Period', rangeText(data.range, zone)],
    ['Compared with', rangeText(data.previous, zone)],
    ['Time zone', zone],
    ['Buckets', data.granularity === 'day' ? 'local days' : 'ISO weeks (Monday to Monday)'],
    ['Generated', `${localDateTime(data.generatedAt, zone)} (${zone})`],
    ['Accounts', `${data.accounts.length}: ${data.accounts.map((a) => a.name).join(', ')}`],
    ['Metrics', data.metrics.join(', ')],
  ];
  if (data.comparison) facts.splice(5, 0, ['Competitor set', data.comparison.setName]);
  if (data.untrackedAccountIds.length > 0) {
    facts.push(['Not tracked (left out)', data.untrackedAccountIds.join(', ')]);
  }
  let y = Math.max(doc.y + 40, 300);
  for (const [label, value] of facts) {
    doc.font('bold').fontSize(10).fillColor('#555555').text(label, PAGE.margin, y, {
      width: 120,
      lineBreak: false,
    });
    doc.font('regular').fontSize(10).fillColor('#111111');
    doc.text(value, PAGE.margin + 130, y, {
      width: CONTENT_WIDTH - 130,
      height: 60,
      ellipsis: true,
    });
    y = doc.y + 10;
  }
}

const KPI_COLUMNS = [
  { label: 'Account', width: 130, align: 'left' },
  { label: 'Metric', width: 85, align: 'left' },
  { label: 'Total', width: 75, align: 'right' },
  { label: 'Previous', width: 75, align: 'right' },
  { label: 'Change', width: 75, align: 'right' },
  { label: 'Change %', width: 75, align: 'right' },
] as const;
const ROW = 15;

function tableRow(doc: Doc, cells: string[], y: number, bold = false): void {
  let x = PAGE.margin;
  doc.font(bold ? 'bold' : 'regular').fontSize(8);
  KPI_COLUMNS.forEach((c, i) => {
    doc.text(fitText(doc, cells[i] ?? '', c.width - 8), x + 4, y + 4, {
      width: c.width - 8,
      align: c.align,
      lineBreak: false,
    });
    x += c.width;
  });
}

function drawKpis(doc: Doc, data: ReportData): void {
  const nameOf = new Map(data.accounts.map((a) => [a.id, `${a.name} (${a.platform})`]));
  let y = BOTTOM;
  let shade = false;
  let lastAccount = '';
  for (const s of data.summaries) {
    if (y + ROW > BOTTOM) {
      doc.addPage();
      y = heading(doc, 'Key figures against the previous period');
      doc.rect(PAGE.margin, y, CONTENT_WIDTH, ROW).fill('#e9eef6');
      doc.fillColor('#111111');
      tableRow(
        doc,
        KPI_COLUMNS.map((c) => c.label),
        y,
        true,
      );
      y += ROW;
      lastAccount = '';
    }
    if (s.accountId !== lastAccount) shade = !shade;
    if (shade) doc.rect(PAGE.margin, y, CONTENT_WIDTH, ROW).fill('#f6f7f9');
    doc.fillColor(s.change < 0 ? '#a61e1e' : '#111111');
    tableRow(
      doc,
      [
        s.accountId === lastAccount ? '' : (nameOf.get(s.accountId) ?? s.accountId),
        s.metric,
        formatNumber(s.total),
        formatNumber(s.previousTotal),
        formatSigned(s.change),
        formatPercent(s.changePercent),
      ],
      y,
    );
    lastAccount = s.accountId;
    y += ROW;
  }
  if (data.summaries.length === 0) {
    doc.addPage();
    y = heading(doc, 'Key figures against the previous period');
    doc.font('regular').fontSize(10).text('No tracked accounts in this report.', PAGE.margin, y);
  }
}

function drawCharts(doc: Doc, data: ReportData, layout: PdfLayout): void {
  const height = chartHeight(PLOT_HEIGHT, data.accounts.length);
  let y = BOTTOM;
  for (const metric of data.metrics) {
    if (y + height > BOTTOM) {
      doc.addPage();
      y = heading(
        doc,
        `Metrics by ${data.granularity === 'day' ? 'day' : 'week'} (${data.timeZone})`,
      );
    }
    const summaries = data.accounts.map((a) =>
      data.summaries.find((s) => s.accountId === a.id && s.metric === metric),
    );
    const buckets = summaries[0]?.buckets ?? [];
    const plot: Box = {
      x: PAGE.margin + 40,
      y: y + 18,
      width: CONTENT_WIDTH - 48,
      height: PLOT_HEIGHT,
    };
    drawLineChart(
      doc,
      {
        title: `${metric} per ${data.granularity}`,
        xLabels: buckets.map((b) => localDay(b.start, data.timeZone)),
        series: data.accounts.map((a, k) => ({
          label: a.name,
          values: summaries[k]?.buckets.map((b) => b.value) ?? [],
        })),
      },
      plot,
    );
    layout.charts.push({ metric, page: doc.bufferedPageRange().count - 1, plot });
    y += height + CHART_GAP;
  }
}

const POST_HEIGHT = 70;

function drawPosts(doc: Doc, data: ReportData): void {
  const nameOf = new Map(data.accounts.map((a) => [a.id, a.name]));
  doc.addPage();
  let y = heading(doc, 'Top posts by engagements');
  doc.font('regular').fontSize(7.5).fillColor('#555555');
  doc.text(
    'Posts published in the period, by lifetime engagements. Posts carry no alt text of their own: the alt text shown is made from the post’s text.',
    PAGE.margin,
    y - 6,
    { width: CONTENT_WIDTH },
  );
  y = doc.y + 8;
  if (data.topPosts.length === 0) {
    doc.font('regular').fontSize(10).fillColor('#111111');
    doc.text('No posts were published in this period.', PAGE.margin, y);
    return;
  }
  data.topPosts.forEach((p, i) => {
    if (y + POST_HEIGHT > BOTTOM) {
      doc.addPage();
      y = heading(doc, 'Top posts by engagements (continued)');
    }
    // A placeholder where the thumbnail goes: reports do not fetch media.
    const colour =
      SERIES_COLOURS[
        Math.max(
          0,
          data.accounts.findIndex((a) => a.id === p.accountId),
        ) % SERIES_COLOURS.length
      ]!;
    doc.rect(PAGE.margin, y, 56, 56).fill('#eef1f5');
    doc.rect(PAGE.margin, y, 4, 56).fill(colour);
    doc.font('bold').fontSize(7).fillColor('#555555');
    doc.text(p.mediaType ?? 'post', PAGE.margin + 4, y + 24, {
      width: 52,
      align: 'center',
      lineBreak: false,
    });
    const x = PAGE.margin + 66;
    const width = CONTENT_WIDTH - 66;
    doc.font('bold').fontSize(8.5).fillColor('#111111');
    const line = `#${i + 1}  ${formatNumber(p.engagements)} engagements · ${localDateTime(p.publishedAt, data.timeZone)} · ${p.platform} · ${nameOf.get(p.accountId) ?? p.accountId}`;
    doc.text(fitText(doc, line, width), x, y, { lineBreak: false });
    doc.font('regular').fontSize(8.5).fillColor('#222222');
    doc.text(p.excerpt || '(no text)', x, y + 13, { width, height: 24, ellipsis: true });
    doc.font('regular').fontSize(7.5).fillColor('#555555');
    doc.text(fitText(doc, `Alt text: ${p.altText}`, width), x, y + 42, { lineBreak: false });
    y += POST_HEIGHT;
  });
}

const METRICS_PER_TABLE = 5;
const CELL_ROW = 22;

function drawComparison(doc: Doc, data: ReportData): void {
  const comparison = data.comparison!;
  const title = `Competitor set: ${comparison.setName}`;
  const nameWidth = CONTENT_WIDTH - METRICS_PER_TABLE * 76;
  const tableHeight = (data.accounts.length + 2) * CELL_ROW + 30;
  let y = BOTTOM;
  for (let start = 0; start < data.metrics.length; start += METRICS_PER_TABLE) {
    const metrics = data.metrics.slice(start, start + METRICS_PER_TABLE);
    if (y + Math.min(tableHeight, BOTTOM - TOP - 30) > BOTTOM) {
      doc.addPage();
      y = heading(doc, title);
      doc.font('regular').fontSize(7.5).fillColor('#555555');
      doc.text(
        'Each cell: the total in the period, the share of the set’s total and the rank in the set.',
        PAGE.margin,
        y - 6,
        { width: CONTENT_WIDTH },
      );
      y = doc.y + 6;
    }
    const cellX = (j: number) => PAGE.margin + nameWidth + j * 76;
    doc.rect(PAGE.margin, y, CONTENT_WIDTH, CELL_ROW).fill('#e9eef6');
    doc.font('bold').fontSize(8).fillColor('#111111');
    doc.text('Account', PAGE.margin + 4, y + 7, { lineBreak: false });
    metrics.forEach((m, j) =>
      doc.text(fitText(doc, m, 68), cellX(j), y + 7, {
        width: 72,
        align: 'right',
        lineBreak: false,
      }),
    );
    y += CELL_ROW;
    data.accounts.forEach((a, k) => {
      if (y + CELL_ROW > BOTTOM) {
        doc.addPage();
        y = heading(doc, `${title} (continued)`);
      }
      if (k % 2 === 1) doc.rect(PAGE.margin, y, CONTENT_WIDTH, CELL_ROW).fill('#f6f7f9');
      doc.font('regular').fontSize(8).fillColor('#111111');
      doc.text(fitText(doc, `${a.name} (${a.platform})`, nameWidth - 8), PAGE.margin + 4, y + 7, {
        lineBreak: false,
      });
      metrics.forEach((m, j) => {
        const cell = comparison.cells.find((c) => c.accountId === a.id && c.metric === m);
        doc.font('regular').fontSize(8).fillColor('#111111');
        doc.text(formatNumber(cell?.total ?? 0), cellX(j), y + 3, {
          width: 72,
          align: 'right',
          lineBreak: false,
        });
        doc.fontSize(6.5).fillColor('#555555');
        const share =
          cell?.sharePercent === null || cell === undefined
            ? 'n/a'
            : `${cell.sharePercent.toFixed(1)}%`;
        doc.text(`${share} · #${cell?.rank ?? '-'}`, cellX(j), y + 12, {
          width: 72,
          align: 'right',
          lineBreak: false,
        });
      });
      y += CELL_ROW;
    });
    doc.rect(PAGE.margin, y, CONTENT_WIDTH, CELL_ROW).fill('#e9eef6');
    doc.font('bold').fontSize(8).fillColor('#111111');
    doc.text('Set total (vs previous)', PAGE.margin + 4, y + 7, { lineBreak: false });
    metrics.forEach((m, j) => {
      const t = comparison.setTotals.find((s) => s.metric === m);
      const total = t?.total ?? 0;
      const before = t?.previousTotal ?? 0;
      doc.font('bold').fontSize(8).fillColor('#111111');
      doc.text(formatNumber(total), cellX(j), y + 3, {
        width: 72,
        align: 'right',
        lineBreak: false,
      });
      doc.font('regular').fontSize(6.5).fillColor('#555555');
      doc.text(
        formatPercent(before === 0 ? null : ((total - before) / Math.abs(before)) * 100),
        cellX(j),
        y + 12,
        { width: 72, align: 'right', lineBreak: false },
      );
    });
    y += CELL_ROW + 24;
  }
}
