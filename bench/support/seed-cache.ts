// A benchmark's seeded data directory is reused while it matches what the run wants: a manifest
// (seed.json) beside the data records what was seeded, with which schema, and when.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const DAY_MS = 24 * 3_600_000;

/** A hash of the DDL and migrations: data written with other ones is seeded again. */
export async function schemaHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of ['../../schema/clickhouse/', '../../schema/postgres/migrations/']) {
    const url = new URL(dir, import.meta.url);
    for (const file of (await readdir(url)).sort()) {
      hash.update(file).update(await readFile(new URL(file, url)));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The manifest in `dataDir` when every field of `wanted` matches it and it is younger than
 * `maxAgeMs`; otherwise none, and why not.
 */
export async function cachedManifest<M extends { seededAt: number }>(
  dataDir: string,
  wanted: Partial<M>,
  maxAgeMs: number,
): Promise<{ manifest: M | undefined; why: string }> {
  let manifest: M;
  try {
    manifest = JSON.parse(await readFile(join(dataDir, 'seed.json'), 'utf8')) as M;
  } catch {
    return { manifest: undefined, why: 'no prepared data directory yet' };
  }
  for (const key of Object.keys(wanted) as (keyof M)[]) {
    if (manifest[key] !== wanted[key]) {
      return { manifest: undefined, why: `prepared with another ${String(key)}` };
    }
  }
  if (Date.now() - manifest.seededAt > maxAgeMs) {
    return { manifest: undefined, why: `prepared more than ${maxAgeMs / DAY_MS} days ago` };
  }
  return { manifest, why: '' };
}
