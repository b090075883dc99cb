// `npm start` as a separate process, as an operator runs it: on chosen free ports and a data
// directory, stopped with a real signal. Resolves its URLs from what it prints when ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVERS } from '../../lib/config.ts';
import { freePorts } from './free-ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ProductProcess {
  gateway: string;
  ingest: string;
  /** Sends a signal; resolves with the exit code and the ms from the signal to the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  /** Everything it printed so far, for failure messages. */
  output(): string;
}

export async function startProductProcess(options: {
  dataDir: string;
  apiKey: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ProductProcess> {
  const base = await freePorts(SERVERS.length);
  const ports = Object.fromEntries(
    SERVERS.map((name, i) => [`LOUPE_${name.toUpperCase()}_PORT`, String(base + i)]),
  );
  // Node itself with tsx's loader, not the tsx command: its signal relay would sit between us.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      ...ports,
      LOUPE_DATA_DIR: options.dataDir,
      LOUPE_DEMO: '0',
      LOUPE_DEMO_TRAFFIC: '0',
      LOUPE_DEMO_API_KEY: options.apiKey,
      LOUPE_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  while (!/Loupe is ready/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the product did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const gateway = /GraphQL \(queries \+ subscriptions\): (\S+)/.exec(output)?.[1];
  const ingest = /Event collector: +(\S+)\/v1\/events/.exec(output)?.[1];
  if (!gateway || !ingest) throw new Error(`no URLs in the product's output:\n${output}`);

  return {
    gateway,
    ingest,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
    output: () => output,
  };
}
