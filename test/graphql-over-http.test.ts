// The gateway against graphql-http's audit of the GraphQL over HTTP specification: every MUST,
// SHOULD and MAY it checks passes, on the running product's public door.
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_audit_key_0123456789';
let loupe: RunningLoupe;

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
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
