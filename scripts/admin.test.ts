// `npm run admin` as an operator runs it, on an embedded data directory: an organisation, keys of
// each kind that open it with their role, tracked and untracked accounts, mistakes answered in a
// line with exit code 2, and a refusal while another process holds the data directory.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { authenticateApiKey } from '../lib/meta/accounts.repo.ts';
import { createPgliteMeta } from '../lib/meta/pglite.meta.ts';
import { createChdbOlap } from '../lib/olap/chdb.olap.ts';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Asynchronous, so the test can hold the data directory while the command tries to open it.
function admin(dataDir: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
      env: { PATH: process.env['PATH'], LOUPE_DATA_DIR: dataDir, LOUPE_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('npm run admin', () => {
  test('creates an organisation, keys that open it with their role, and tracks accounts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loupe-admin-'));
    const org = await admin(
      dir,
      'org',
      'create',
      '--name',
      'Acme EU',
      '--time-zone',
      'Europe/Berlin',
      '--json',
    );
    expect(org.status, org.stderr).toBe(0);
    const { id: orgId } = JSON.parse(org.stdout) as { id: string };

    const ingest = await admin(dir, 'key', 'create', '--org', orgId, '--role', 'ingest', '--json');
    expect(ingest.status, ingest.stderr).toBe(0);
    const created = JSON.parse(ingest.stdout) as { key: string; id: string; role: string };
    expect(created.role).toBe('ingest');

    const noClient = await admin(dir, 'key', 'create', '--org', orgId, '--role', 'partner');
    expect(noClient.status).toBe(2);
    expect(noClient.stderr).toMatch(/a partner key needs a client name/);

    const track = await admin(
      dir,
      'account',
      'track',
      '--org',
      orgId,
      '--platform',
      'instagram',
      '--id',
      'ig-acme',
    );
    expect(track.status, track.stderr).toBe(0);
    const untrack = await admin(
      dir,
      'account',
      'untrack',
      '--org',
      orgId,
      '--id',
      'ig-acme',
      '--id',
      'nope',
    );
    expect(untrack.status).toBe(2);
    expect(untrack.stderr).toMatch(/does not track nope; untracked ig-acme/);

    const list = await admin(dir, 'key', 'list', '--org', orgId, '--json');
    const keys = JSON.parse(list.stdout) as { id: string; role: string; prefix: string }[];
    expect(keys.map((k) => [k.id, k.role])).toEqual([[created.id, 'ingest']]);
    // The key itself is shown once: never in a listing.
    expect(list.stdout).not.toContain(created.key);

    const meta = await createPgliteMeta({ dataDir: join(dir, 'meta') });
    try {
      expect(await authenticateApiKey(meta, created.key)).toEqual({
        orgId,
        timeZone: 'Europe/Berlin',
        role: 'ingest',
      });
      expect(
        await meta.query('SELECT id FROM tracked_accounts WHERE org_id = $1', [orgId]),
      ).toEqual([]);
    } finally {
      await meta.close();
    }
  }, 120_000);

  test('registers a partner client, publishes manifest versions, restores one, and keys for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loupe-admin-'));
    const org = await admin(dir, 'org', 'create', '--name', 'Agency', '--json');
    const { id: orgId } = JSON.parse(org.stdout) as { id: string };
    const partnerKey = ['key', 'create', '--org', orgId, '--role', 'partner', '--client', 'acme'];
    const stray = await admin(dir, ...partnerKey);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toMatch(/no partner client acme; register it first/);

    const register = await admin(
      dir,
      'client',
      'register',
      '--org',
      orgId,
      '--name',
      'acme',
      '--mode',
      'audit',
    );
    expect(register.status, register.stderr).toBe(0);
    const body = 'query Tracked { accounts { id } }';
    const op = (id: string, text: string) => ({ id, name: 'Tracked', type: 'query', body: text });
    const write = async (name: string, operations: unknown[]) => {
      const path = join(dir, name);
      await writeFile(
        path,
        JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }),
      );
      return path;
    };
    const publish = (path: string) =>
      admin(
        dir,
        'manifest',
        'publish',
        '--org',
        orgId,
        '--client',
        'acme',
        '--file',
        path,
        '--json',
      );
    const first = await publish(await write('v1.json', [op('one', body)]));
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ client: 'acme', version: 1, operations: 1 });
    expect((await publish(await write('v2.json', [op('one', body), op('two', body)]))).status).toBe(
      0,
    );
    const invalid = await publish(await write('bad.json', [op('x', 'query Tracked { nope }')]));
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toMatch(/operation x \(Tracked\): Cannot query field "nope"/);

    const restore = await admin(
      dir,
      'manifest',
      'restore',
      '--org',
      orgId,
      '--client',
      'acme',
      '--version',
      '1',
    );
    expect(restore.status, restore.stderr).toBe(0);
    const listed = await admin(dir, 'client', 'list', '--org', orgId, '--json');
    const [client] = JSON.parse(listed.stdout) as {
      name: string;
      mode: string;
      activeVersion: number;
      versions: { version: number; operationCount: number }[];
    }[];
    expect(client).toMatchObject({ name: 'acme', mode: 'audit', activeVersion: 1 });
    expect(client!.versions.map((v) => [v.version, v.operationCount])).toEqual([
      [2, 2],
      [1, 1],
    ]);

    const key = await admin(dir, ...partnerKey);
    expect(key.status, key.stderr).toBe(0);
    expect(
      (await admin(dir, 'client', 'mode', '--org', orgId, '--name', 'acme', '--mode', 'strict'))
        .stderr,
    ).toMatch(/--mode must be one of enforce, audit/);
  }, 120_000);

  test('answers a mistake in one line with exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loupe-admin-'));
    const zone = await admin(dir, 'org', 'create', '--name', 'X', '--time-zone', 'Mars/Base');
    expect([zone.status, zone.stderr.trim()]).toEqual([2, '"Mars/Base" is not an IANA time zone']);
    const unknown = await admin(dir, 'key', 'list', '--org', 'no-such-org');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no organisation no-such-org/);
    const bogus = await admin(dir, 'bogus');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toMatch(/unknown command: bogus[\s\S]*npm run admin -- <command>/);
  }, 120_000);

  test('refuses while another process holds the data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loupe-admin-'));
    const olap = createChdbOlap({ dataDir: join(dir, 'olap'), sessions: 1 });
    try {
      await olap.query('SELECT 1');
      // This process holds it as `npm start` would; the command must not open PGlite beside it.
      const run = await admin(dir, 'org', 'list');
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/is in use \(is `npm start` running on it\?\)/);
    } finally {
      await olap.close();
    }
  }, 120_000);
});
