// `npm run services -- up|down|status`: the real servers the integration tests need, on
// 127.0.0.1. A server already listening is reused; a missing one is started (installed from
// Debian's packages first when absent) and recorded, so `down` stops only what `up` started.
// Covers PostgreSQL and Redis today; Kafka and Elasticsearch join them with issue #3.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

const STATE_DIR = resolve('.loupe/services');
const READY_TIMEOUT_MS = 30_000;

interface Service {
  name: string;
  port: number;
  /** Debian package that provides it. */
  pkg: string;
  /** Binary whose presence means the package is installed. */
  binary: string;
  start(): void;
  stop(): void;
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
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

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? 'signal'})`);
  }
}

function has(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

const marker = (name: string) => join(STATE_DIR, `${name}.started`);

const redis: Service = {
  name: 'redis',
  port: 6379,
  pkg: 'redis-server',
  binary: 'redis-server',
  start() {
    const dir = join(STATE_DIR, 'redis');
    mkdirSync(dir, { recursive: true });
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', dir],
      { detached: true, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    child.unref();
    writeFileSync(marker('redis'), String(child.pid));
  },
  stop() {
    const pid = Number(readFileSync(marker('redis'), 'utf8'));
    if (pid > 0) process.kill(pid, 'SIGTERM');
  },
};

/** Debian runs PostgreSQL as clusters; the first one found is ours to start. */
function postgresCluster(): { version: string; name: string } {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort() : [];
  const version = versions.at(-1);
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  const name = readdirSync(join('/etc/postgresql', version)).sort()[0] ?? 'main';
  return { version, name };
}

const postgres: Service = {
  name: 'postgresql',
  port: 5432,
  pkg: 'postgresql',
  binary: 'pg_ctlcluster',
  start() {
    const { version, name } = postgresCluster();
    run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start']);
    writeFileSync(marker('postgresql'), `${version} ${name}`);
  },
  stop() {
    const [version, name] = readFileSync(marker('postgresql'), 'utf8').split(' ');
    if (version && name) run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'stop']);
  },
};

const SERVICES: readonly Service[] = [postgres, redis];

async function up(service: Service): Promise<void> {
  if (await listening(service.port)) {
    console.log(`${service.name}: already listening on 127.0.0.1:${service.port}, reusing it`);
    return;
  }
  if (!has(service.binary)) {
    console.log(`${service.name}: installing Debian package ${service.pkg} …`);
    run('apt-get', ['install', '-y', '--no-install-recommends', service.pkg]);
  }
  console.log(`${service.name}: starting on 127.0.0.1:${service.port} …`);
  service.start();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await listening(service.port))) {
    if (Date.now() > deadline) {
      throw new Error(
        `${service.name} did not accept connections on 127.0.0.1:${service.port} within ${READY_TIMEOUT_MS / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`${service.name}: ready`);
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'status';
  mkdirSync(STATE_DIR, { recursive: true });
  if (command === 'up') {
    for (const service of SERVICES) await up(service);
  } else if (command === 'down') {
    for (const service of SERVICES) {
      if (!existsSync(marker(service.name))) {
        console.log(`${service.name}: not started by this script, left alone`);
        continue;
      }
      service.stop();
      rmSync(marker(service.name));
      console.log(`${service.name}: stopped`);
    }
  } else if (command === 'status') {
    for (const service of SERVICES) {
      const state = (await listening(service.port)) ? 'listening' : 'down';
      const ours = existsSync(marker(service.name)) ? ' (started by this script)' : '';
      console.log(`${service.name}: ${state} on 127.0.0.1:${service.port}${ours}`);
    }
  } else {
    console.error('usage: npm run services -- up|down|status');
    process.exit(2);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
