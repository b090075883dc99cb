// PostgreSQL and Redis come from Debian's packages: installed when missing, started on
// 127.0.0.1 in their default ports. A server already listening there is reused as it is.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { has, run, serviceDir, spawnDetached, stopPid, type Service } from './service.ts';

function aptInstall(name: string, pkg: string, binary: string): void {
  if (has(binary)) return;
  console.log(`${name}: installing Debian package ${pkg} …`);
  run('apt-get', ['install', '-y', '--no-install-recommends', pkg]);
}

/** The browser the explorer's test drives (playwright-core with Debian's build): installed, not run. */
export function ensureChromium(): void {
  aptInstall('chromium', 'chromium', 'chromium');
}

/** pdftoppm and pdftotext, with which the report tests render and read the PDFs they make. */
export function ensurePoppler(): void {
  aptInstall('poppler', 'poppler-utils', 'pdftoppm');
}

export function redisService(): Service {
  const dir = serviceDir('redis');
  const pidFile = join(dir, 'redis.pid');
  const logFile = join(dir, 'redis.log');
  return {
    name: 'redis',
    port: 6379,
    readyTimeoutMs: 30_000,
    logFile,
    async install() {
      aptInstall('redis', 'redis-server', 'redis-server');
    },
    async start() {
      // In the foreground (no --daemonize) so the pid we record is the server's own.
      spawnDetached(
        'redis-server',
        ['--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', dir],
        { logFile, pidFile },
      );
    },
    stop: () => stopPid(pidFile),
  };
}

/** Debian runs PostgreSQL as clusters; the newest version's first cluster is ours to start. */
function postgresCluster(): { version: string; name: string } {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort() : [];
  const version = versions.at(-1);
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  const name = readdirSync(join('/etc/postgresql', version)).sort()[0] ?? 'main';
  return { version, name };
}

export function postgresService(): Service {
  const clusterFile = join(serviceDir('postgresql'), 'cluster');
  return {
    name: 'postgresql',
    port: 5432,
    readyTimeoutMs: 30_000,
    async install() {
      aptInstall('postgresql', 'postgresql', 'pg_ctlcluster');
    },
    async start() {
      const { version, name } = postgresCluster();
      run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start']);
      writeFileSync(clusterFile, `${version} ${name}`);
    },
    async stop() {
      const [version, name] = readFileSync(clusterFile, 'utf8').split(' ');
      if (version && name)
        run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'stop']);
    },
  };
}
