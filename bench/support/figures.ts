// What a benchmark reports: named figures, each with its same-run baseline and the product's
// target when it has one. Printed as a table; sent to `bench/run.ts` when it started us.

export interface Figure {
  /** The benchmark that measured it, e.g. `ingest`. */
  bench: string;
  name: string;
  value: number;
  /** `events/s`, `ms`, `msg/s`, … */
  unit: string;
  /** What the product aims for; figures are compared with it, never failed on it. */
  target?: { op: '>=' | '<='; value: number };
  /** The same measurement without the product in the way, taken in the same invocation. */
  baseline?: { name: string; value: number };
}

export interface FiguresMessage {
  type: 'figures';
  figures: Figure[];
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = unit === 'ms' && value < 100 ? (value < 10 ? 2 : 1) : 0;
  const text = value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${text} ${unit}`;
}

export function formatTarget(figure: Figure): string {
  const { target } = figure;
  if (!target) return '';
  return `${target.op === '>=' ? '≥' : '≤'} ${formatValue(target.value, figure.unit)}`;
}

/** `met` / `not met` beside the target; benchmarks inform, they do not fail. */
export function targetVerdict(figure: Figure): string {
  const { target, value } = figure;
  if (!target) return '';
  if (!Number.isFinite(value)) return 'no figure';
  const met = target.op === '>=' ? value >= target.value : value <= target.value;
  return met ? 'met' : 'not met';
}

export function formatBaseline(figure: Figure): string {
  const { baseline } = figure;
  if (!baseline) return '';
  const ratio = figure.value / baseline.value;
  const shown = Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
  return `${shown} of ${baseline.name} (${formatValue(baseline.value, figure.unit)})`;
}

/** Renders rows as a plain aligned table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function figuresTable(figures: readonly Figure[]): string {
  return table(
    ['bench', 'figure', 'value', 'target', '', 'vs same-run baseline'],
    figures.map((f) => [
      f.bench,
      f.name,
      formatValue(f.value, f.unit),
      formatTarget(f),
      targetVerdict(f),
      formatBaseline(f),
    ]),
  );
}

/** Prints the figures and hands them to `bench/run.ts` when it forked this benchmark. */
export function publishFigures(figures: readonly Figure[]): void {
  console.log(`\n${figuresTable(figures)}\n`);
  const message: FiguresMessage = { type: 'figures', figures: [...figures] };
  process.send?.(message);
}
