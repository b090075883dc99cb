// Elasticsearch from Maven Central's integ-test zip (no bundled JDK, core modules only), run
// single-node on 127.0.0.1 by a system user of its own, because it refuses to run as root.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchArtifact } from './maven.ts';
import { has, run, serviceDir, spawnDetached, stopPid, type Service } from './service.ts';

const VERSION = '8.19.21';
const USER = 'loupe-es';
const HTTP_PORT = 9200;
const TRANSPORT_PORT = 9300;

/** ES 8.19 runs on Java 17 or 21; ES_JAVA_HOME is the only JDK setting it reads. */
function javaHome(): string {
  const jvms = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm') : [];
  for (const major of ['17', '21']) {
    const found = jvms
      .filter((d) => d.startsWith(`java-${major}-`))
      .map((d) => join('/usr/lib/jvm', d))
      .find((home) => existsSync(join(home, 'bin', 'java')));
    if (found) return found;
  }
  throw new Error(
    'elasticsearch: no Java 17 or 21 under /usr/lib/jvm: apt-get install openjdk-17-jre-headless',
  );
}

function idOf(flag: '-u' | '-g'): number | undefined {
  const result = spawnSync('id', [flag, USER], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

function ensureUser(): { uid: number; gid: number } {
  if (idOf('-u') === undefined) {
    console.log(`elasticsearch: creating system user ${USER} (it refuses to run as root) …`);
    run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  const uid = idOf('-u');
  const gid = idOf('-g');
  if (uid === undefined || gid === undefined) throw new Error(`no uid/gid for user ${USER}`);
  return { uid, gid };
}

export function elasticsearchService(): Service {
  const dir = serviceDir('elasticsearch');
  const home = join(dir, `elasticsearch-${VERSION}`);
  const dataDir = join(dir, 'data');
  const logsDir = join(dir, 'logs');
  const tmpDir = join(dir, 'tmp');
  const pidFile = join(dir, 'elasticsearch.pid');
  const logFile = join(dir, 'elasticsearch.log');
  return {
    name: 'elasticsearch',
    port: HTTP_PORT,
    readyTimeoutMs: 120_000,
    logFile,
    async install() {
      if (!existsSync(join(home, 'bin', 'elasticsearch'))) {
        const zip = fetchArtifact(
          'elasticsearch',
          {
            groupId: 'org.elasticsearch.distribution.integ-test-zip',
            artifactId: 'elasticsearch',
            version: VERSION,
            type: 'zip',
          },
          join(dir, 'dist'),
        );
        if (!has('unzip')) {
          console.log('elasticsearch: installing Debian package unzip …');
          run('apt-get', ['install', '-y', '--no-install-recommends', 'unzip']);
        }
        // Unpacked beside its final place and renamed, so an interrupted unzip is never reused.
        const unpacking = join(dir, 'unpacking');
        rmSync(unpacking, { recursive: true, force: true });
        console.log(`elasticsearch: unpacking ${zip} …`);
        run('unzip', ['-q', zip, '-d', unpacking]);
        renameSync(join(unpacking, `elasticsearch-${VERSION}`), home);
        rmSync(unpacking, { recursive: true, force: true });
      }
      const { uid, gid } = ensureUser();
      for (const d of [dataDir, logsDir, tmpDir]) mkdirSync(d, { recursive: true });
      // It writes its keystore into config/ at first start, so the whole tree is the user's.
      run('chown', ['-R', `${uid}:${gid}`, home, dataDir, logsDir, tmpDir]);
    },
    async start() {
      const { uid, gid } = ensureUser();
      writeFileSync(
        join(home, 'config', 'elasticsearch.yml'),
        [
          '# Written by scripts/services/elasticsearch.ts on every start.',
          'cluster.name: loupe',
          'node.name: loupe-es',
          'network.host: 127.0.0.1',
          `http.port: ${HTTP_PORT}`,
          `transport.port: ${TRANSPORT_PORT}`,
          'discovery.type: single-node',
          'xpack.security.enabled: false',
          // A nearly full disk must not turn the test indices read-only.
          'cluster.routing.allocation.disk.threshold_enabled: false',
          `path.data: ${dataDir}`,
          `path.logs: ${logsDir}`,
          '',
        ].join('\n'),
      );
      spawnDetached(join(home, 'bin', 'elasticsearch'), [], {
        logFile,
        pidFile,
        uid,
        gid,
        cwd: home,
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          LANG: 'C.UTF-8',
          ES_JAVA_HOME: javaHome(),
          ES_JAVA_OPTS: '-Xms512m -Xmx512m',
          ES_TMPDIR: tmpDir,
        },
      });
    },
    async ready() {
      const response = await fetch(`http://127.0.0.1:${HTTP_PORT}/_cluster/health`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!response.ok) return false;
      const { status } = (await response.json()) as { status?: string };
      return status === 'yellow' || status === 'green';
    },
    stop: () => stopPid(pidFile),
  };
}
