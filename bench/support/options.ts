// Numeric command-line options of a benchmark (`--duration 60`). Unknown flags are ignored, so
// `npm run bench -- --duration 60` can pass one set of flags to every benchmark it runs.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  default: number;
  /** One line for `--help`. */
  doc: string;
}

export function benchOptions<K extends string>(
  bench: string,
  specs: Record<K, OptionSpec>,
  args: readonly string[] = process.argv.slice(2),
): Record<K, number> {
  const names = Object.keys(specs) as K[];
  const { values } = parseArgs({
    args: [...args],
    strict: false,
    allowPositionals: true,
    options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
  });
  if (values['help']) {
    console.log(`options of ${bench}:`);
    for (const name of names) {
      console.log(`  --${name.padEnd(20)} ${specs[name].doc} (default ${specs[name].default})`);
    }
  }
  const result = {} as Record<K, number>;
  for (const name of names) {
    const raw = values[name];
    const value = typeof raw === 'string' ? Number(raw) : specs[name].default;
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`--${name} must be a positive number, got ${String(raw)}`);
    }
    result[name] = value;
  }
  return result;
}

/** A boolean flag such as `--profile`; false unless given. */
export function benchFlag(name: string, args: readonly string[] = process.argv.slice(2)): boolean {
  return args.includes(`--${name}`);
}
