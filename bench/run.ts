// `npm run bench [-- <name>…] [--flag value…]`: runs the chosen benchmarks (all by default), each
// in a process of its own, then prints every figure beside its target and its same-run baseline.
// Flags are passed to every benchmark; each reads its own (`--help` lists them).
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { figuresTable, type Figure, type FiguresMessage } from './support/figures.ts';
import { seconds } from './support/stats.ts';

interface BenchEntry {
  file: string;
  /** Reads figures from the output of a benchmark that only prints them. */
  parse?: (line: string) => Figure[];
}

const BENCHES: Record<string, BenchEntry> = {
  bus: { file: 'memory-bus.bench.ts', parse: busFigures },
  ingest: { file: 'ingest.bench.ts' },
  dashboard: { file: 'dashboard.bench.ts' },
  benchmarking: { file: 'benchmarking.bench.ts' },
  freshness: { file: 'freshness.bench.ts' },
  overload: { file: 'overload.bench.ts' },
  posts: { file: 'posts.bench.ts' },
  gateway: { file: 'gateway.bench.ts' },
  webhooks: { file: 'webhooks.bench.ts' },
  connectors: { file: 'connectors.bench.ts' },
  'report-pdf': { file: 'report-pdf.bench.ts' },
  product: { file: 'product.bench.ts' },
};

let busBaseline = NaN;
/** The bus micro-benchmark prints prose; these are its lines, in its own words. */
function busFigures(line: string): Figure[] {
  const rate = (text: string | undefined) => Number((text ?? '').replaceAll(',', ''));
  const bench = 'bus';
  const baseline = () => ({ name: 'handler called directly', value: busBaseline });
  let m = /^baseline \(handler called directly.*\): ([\d,]+) msg\/s/.exec(line);
  if (m) {
    busBaseline = rate(m[1]);
    return [];
  }
  m = /^bus, (\d) groups?, batches of (\d+): ([\d,]+) msg\/s/.exec(line);
  if (m) {
    const name = `throughput, ${m[1]} group${m[1] === '1' ? '' : 's'} (batches of ${m[2]})`;
    return [{ bench, name, value: rate(m[3]), unit: 'msg/s', baseline: baseline() }];
  }
  m = /^publish -> handleBatch at ([\d,]+) msg\/s: p50 ([\d.]+) ms, p99 ([\d.]+) ms/.exec(line);
  if (m) {
    const at = `at ${m[1]} msg/s`;
    return [
      { bench, name: `publish → handler p50 ${at}`, value: Number(m[2]), unit: 'ms' },
      { bench, name: `publish → handler p99 ${at}`, value: Number(m[3]), unit: 'ms' },
    ];
  }
  return [];
}

function isFiguresMessage(message: unknown): message is FiguresMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    'type' in message &&
    message.type === 'figures'
  );
}

function selection(args: readonly string[]): { names: string[]; flags: string[] } {
  const names: string[] = [];
  const flags: string[] = [];
  args.forEach((arg, i) => {
    const previous = args[i - 1];
    const isFlagValue =
      previous !== undefined &&
      previous.startsWith('--') &&
      !previous.includes('=') &&
      !(arg in BENCHES);
    if (arg in BENCHES) names.push(arg);
    else if (arg.startsWith('--') || isFlagValue) flags.push(arg);
    else
      throw new Error(`unknown benchmark "${arg}"; choose from ${Object.keys(BENCHES).join(', ')}`);
  });
  return { names: names.length > 0 ? names : Object.keys(BENCHES), flags };
}

async function runBench(
  name: string,
  entry: BenchEntry,
  flags: readonly string[],
): Promise<{ figures: Figure[]; exit: number | string }> {
  const file = fileURLToPath(new URL(`./${entry.file}`, import.meta.url));
  const child = fork(file, [...flags], {
    execArgv: process.execArgv,
    stdio: ['inherit', 'pipe', 'inherit', 'ipc'],
  });
  const figures: Figure[] = [];
  child.on('message', (message: unknown) => {
    if (isFiguresMessage(message)) figures.push(...message.figures);
  });
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    console.log(line);
    if (entry.parse) figures.push(...entry.parse(line));
  });
  const exit = await new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  if (figures.length === 0 && exit === 0) console.log(`(${name} printed no figures)`);
  return { figures, exit };
}

async function main(): Promise<number> {
  const { names, flags } = selection(process.argv.slice(2));
  const started = performance.now();
  const figures: Figure[] = [];
  const failed: string[] = [];
  const timings: string[] = [];
  for (const name of names) {
    const entry = BENCHES[name]!;
    console.log(`\n=== ${name} (bench/${entry.file}) ===`);
    const benchStarted = performance.now();
    const result = await runBench(name, entry, flags);
    figures.push(...result.figures);
    const took = seconds(performance.now() - benchStarted);
    timings.push(`${name} ${took}`);
    if (result.exit !== 0) failed.push(`${name} (exit ${result.exit})`);
    console.log(`=== ${name} done in ${took} ===`);
  }

  console.log(`\n=== summary (${seconds(performance.now() - started)}: ${timings.join(', ')}) ===`);
  console.log(
    'Figures beside their targets; ratios compare with a baseline measured in the same run.',
  );
  console.log(figuresTable(figures));
  if (failed.length > 0) console.log(`\nbenchmarks that did not finish: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
}
