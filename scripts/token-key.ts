// The key platform tokens are sealed with. Configured (LOUPE_TOKEN_KEYS) it is the operator's,
// and rotated by listing a new key first. Unset on an embedded run, one is made once and kept in
// the data directory beside the data it seals, so `npm start` works with nothing to configure;
// a shared meta store (PostgreSQL) has no such directory every replica shares, and needs the key.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoupeConfig } from '../lib/config.ts';
import {
  createTokenCipher,
  parseTokenKeys,
  type TokenCipher,
} from '../lib/secrets/token-cipher.ts';

/** The cipher of this deployment; undefined when tokens cannot be kept (server meta, no key). */
export async function tokenCipherOf(config: LoupeConfig): Promise<TokenCipher | undefined> {
  if (config.connectors.tokenKeys) return createTokenCipher(config.connectors.tokenKeys);
  if (config.servers.postgresUrl) return undefined;
  const file = join(config.dataDir, 'token-key');
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = `local:${randomBytes(32).toString('base64')}`;
    await mkdir(config.dataDir, { recursive: true });
    // `wx`: two processes starting at once keep whichever wrote first.
    await writeFile(file, `${text}\n`, { mode: 0o600, flag: 'wx' }).catch(async (e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      text = (await readFile(file, 'utf8')).trim();
    });
  }
  return createTokenCipher(parseTokenKeys(text));
}
