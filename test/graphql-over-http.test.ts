// The gateway against graphql-http's audit of the GraphQL over HTTP specification: every MUST,
// SHOULD and MAY it checks passes, on the running product's public door.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig, throwawayEnv } from '../lib/config.ts';
import { startLoupe, type RunningLoupe } from '../scripts/runtime.ts';

const KEY = 'loupe_audit_key_0123456789';
let loupe: RunningLoupe;

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'loupe-http-audit-'));
  loupe = await startLoupe(loadConfig(throwawayEnv({ dataDir, apiKey: KEY, logLevel: 'silent' })));
}, 60_000);
afterAll(async () => loupe?.close());

test('every audit of graphql-http passes', async () => {
  const results = await auditServer({
    url: loupe.urls.gateway!,
    // The audit's requests, each with the API key every caller sends.
    fetchFn: (input: string | URL | Request, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('x-api-key', KEY);
      return fetch(input, { ...init, headers });
    },
  });
  const failed = results
    .filter((r) => r.status !== 'ok')
    .map((r) => `${r.status} ${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
  expect(failed).toEqual([]);
  expect(results.length).toBeGreaterThan(50);
}, 60_000);
