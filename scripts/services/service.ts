// What every managed server shares: a readiness probe, a detached process whose pid is recorded
// under `.loupe/services/<name>/`, and a stop that only ever signals a pid this script wrote.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

export const STATE_DIR = resolve('.loupe/services');

export interface Service {
  name: string;
  /** Port on 127.0.0.1 whose listener means the server is there (ours or someone else's). */
  port: number;
  /** Fetches or installs what `start` needs; cached, so a second call is quick. */
  install(): Promise<void>;
  /** Launches the server; returns once it is launched, not once it is ready. */
  start(): Promise<void>;
  /** Stronger check than an open port, e.g. an HTTP health answer. Default: the port. */
  ready?(): Promise<boolean>;
  /** Stops what `start` launched. */
  stop(): Promise<void>;
  /** How long `up` waits for readiness. */
  readyTimeoutMs: number;
  /** Where its log goes, named in errors so a failed start can be diagnosed. */
  logFile?: string;
}

export function serviceDir(name: string): string {
  const dir = join(STATE_DIR, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The marker `up` leaves when it started the server, so `down` knows it is ours. */
export const startedMarker = (name: string) => join(STATE_DIR, `${name}.started`);

export function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
  });
}

/** Polls `check` until it holds; throws `describe()` once `timeoutMs` has passed. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs a command to completion with its output shown; throws on a non-zero exit. */
export function run(command: string, args: readonly string[], options: SpawnOptions = {}): void {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? 'signal'})`);
  }
}

export function has(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts a long-running server detached from this process, output appended to `logFile`, and
 * writes its pid to `pidFile`. Returns the pid.
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  options: {
    logFile: string;
    pidFile: string;
    env?: NodeJS.ProcessEnv;
    uid?: number;
    gid?: number;
    cwd?: string;
  },
): number {
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: options.env ?? process.env,
    uid: options.uid,
    gid: options.gid,
    cwd: options.cwd,
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.unref();
  writeFileSync(options.pidFile, String(child.pid));
  return child.pid;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the pid recorded in `pidFile`, then SIGKILL if it outlives `graceMs`. */
export async function stopPid(pidFile: string, graceMs = 20_000): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile);
  if (!(pid > 0) || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** The last lines of a log, for an error message that says why a server did not come up. */
export function logTail(logFile: string | undefined, lines = 15): string {
  if (!logFile || !existsSync(logFile)) return '';
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `\n--- last lines of ${logFile} ---\n${tail}`;
}
