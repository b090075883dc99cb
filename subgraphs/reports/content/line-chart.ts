// A line chart as vector graphics on a pdfkit page: axes, gridlines, tick labels on both axes and
// a legend under the plot, one line per series in colours that stay apart for 20 series.
import type PDFDocument from 'pdfkit';
import { formatShort } from './report-format.ts';

type Doc = InstanceType<typeof PDFDocument>;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ChartSeries {
  label: string;
  values: number[];
}

export interface LineChart {
  title: string;
  /** One per bucket, the same length as every series' values. */
  xLabels: string[];
  series: ChartSeries[];
}

/** Twenty hues far enough apart to tell lines apart; past 20 they repeat, dashed. */
export const SERIES_COLOURS = [
  '#1f5fbf',
  '#e8590c',
  '#2b8a3e',
  '#c2255c',
  '#7048e8',
  '#0b7285',
  '#f59f00',
  '#5c940d',
  '#862e9c',
  '#c92a2a',
  '#364fc7',
  '#087f5b',
  '#d6336c',
  '#495057',
  '#a0522d',
  '#15aabf',
  '#ff6b6b',
  '#82c91e',
  '#f783ac',
  '#b08900',
] as const;

export const LEGEND_COLUMNS = 4;
const LEGEND_ROW = 11;
const TITLE_HEIGHT = 18;
const Y_LABELS = 40;
const X_LABELS = 16;

/** The height a chart takes with its title, tick labels and legend. */
export function chartHeight(plotHeight: number, seriesCount: number): number {
  return TITLE_HEIGHT + plotHeight + X_LABELS + legendRows(seriesCount) * LEGEND_ROW + 6;
}

function legendRows(n: number): number {
  return Math.ceil(n / LEGEND_COLUMNS);
}

/** Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, wanted = 5): number[] {
  if (max <= min) max = min + 1;
  const raw = (max - min) / wanted;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t < max + step; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= max) break;
  }
  return ticks;
}

/**
 * Draws the chart with its plot at `plot` (title above it, labels and legend below). Fonts
 * `regular` and `bold` must be registered on the document.
 */
export function drawLineChart(doc: Doc, chart: LineChart, plot: Box): void {
  const { x, y, width, height } = plot;
  doc
    .font('bold')
    .fontSize(10)
    .fillColor('#111111')
    .text(chart.title, x - Y_LABELS, y - TITLE_HEIGHT, { lineBreak: false });

  const all = chart.series.flatMap((s) => s.values);
  const ticks = niceTicks(Math.min(0, ...all), Math.max(1, ...all));
  const lo = ticks[0]!;
  const hi = ticks.at(-1)!;
  const yOf = (v: number) => y + height - ((v - lo) / (hi - lo)) * height;
  const n = chart.xLabels.length;
  const xOf = (i: number) => x + ((i + 0.5) / Math.max(n, 1)) * width;

  // Gridlines and y tick labels.
  doc.font('regular').fontSize(7).lineWidth(0.4).strokeColor('#d0d4d9').undash();
  for (const t of ticks) {
    const ty = yOf(t);
    doc
      .moveTo(x, ty)
      .lineTo(x + width, ty)
      .stroke();
    doc.fillColor('#444444').text(formatShort(t), x - Y_LABELS, ty - 3.5, {
      width: Y_LABELS - 4,
      align: 'right',
      lineBreak: false,
    });
  }
  // x tick labels, as many as fit without touching.
  const labelWidth = Math.max(30, ...chart.xLabels.map((l) => doc.widthOfString(l) + 8));
  const every = Math.max(1, Math.ceil((n * labelWidth) / width));
  for (let i = 0; i < n; i += every) {
    const tx = xOf(i);
    doc
      .moveTo(tx, y)
      .lineTo(tx, y + height)
      .stroke();
    doc
      .moveTo(tx, y + height)
      .lineTo(tx, y + height + 3)
      .strokeColor('#666666')
      .stroke();
    doc.strokeColor('#d0d4d9');
    doc.fillColor('#444444').text(chart.xLabels[i]!, tx - labelWidth / 2, y + height + 5, {
      width: labelWidth,
      align: 'center',
      lineBreak: false,
    });
  }
  // Axes.
  doc.lineWidth(0.8).strokeColor('#333333');
  doc
    .moveTo(x, y)
    .lineTo(x, y + height)
    .stroke();
  doc
    .moveTo(x, yOf(Math.max(lo, 0)))
    .lineTo(x + width, yOf(Math.max(lo, 0)))
    .stroke();

  chart.series.forEach((s, k) => {
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length]!;
    doc.lineWidth(1.2).strokeColor(colour).fillColor(colour);
    if (k >= SERIES_COLOURS.length) doc.dash(3, { space: 2 });
    else doc.undash();
    s.values.forEach((v, i) => {
      if (i === 0) doc.moveTo(xOf(i), yOf(v));
      else doc.lineTo(xOf(i), yOf(v));
    });
    if (n > 1) doc.stroke();
    // Dots show the buckets, and a lone bucket would otherwise draw nothing.
    if (n <= 40) s.values.forEach((v, i) => doc.circle(xOf(i), yOf(v), 1.4).fill());
  });
  doc.undash();

  if (all.every((v) => v === 0)) {
    doc
      .font('regular')
      .fontSize(8)
      .fillColor('#666666')
      .text('No activity in this period', x, y + height / 2 - 14, {
        width,
        align: 'center',
        lineBreak: false,
      });
  }
  drawLegend(doc, chart.series, {
    x: x - Y_LABELS,
    y: y + height + X_LABELS + 2,
    width: width + Y_LABELS,
  });
}

function drawLegend(doc: Doc, series: ChartSeries[], at: Omit<Box, 'height'>) {
  const column = at.width / LEGEND_COLUMNS;
  doc.font('regular').fontSize(7);
  series.forEach((s, k) => {
    const lx = at.x + (k % LEGEND_COLUMNS) * column;
    const ly = at.y + Math.floor(k / LEGEND_COLUMNS) * LEGEND_ROW;
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length]!;
    doc.lineWidth(2).strokeColor(colour);
    if (k >= SERIES_COLOURS.length) doc.dash(3, { space: 2 });
    doc
      .moveTo(lx, ly + 4)
      .lineTo(lx + 14, ly + 4)
      .stroke();
    doc.undash();
    doc.fillColor('#222222').text(fitText(doc, s.label, column - 22), lx + 18, ly, {
      lineBreak: false,
    });
  });
}

/** The text cut with an ellipsis to fit `width` in the current font. */
export function fitText(doc: Doc, text: string, width: number): string {
  if (doc.widthOfString(text) <= width) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (doc.widthOfString(`${chars.slice(0, mid).join('')}…`) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('')}…`;
}
