// The whole product on embedded stores in a fresh data directory, for tests that talk to its
// public doors; `env` adds settings (small limits, a JWKS) on top of the throwaway ones.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, throwawayEnv } from '../../lib/config.ts';
import { startLoupe, type RunningLoupe } from '../../scripts/runtime.ts';

export async function startEmbeddedProduct(
  apiKey: string,
  env: Record<string, string> = {},
  dataDir?: string,
): Promise<RunningLoupe> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'loupe-product-')));
  return startLoupe(
    loadConfig({ ...throwawayEnv({ dataDir: dir, apiKey, logLevel: 'silent' }), ...env }),
  );
}
