// Hostile documents at the gateway's public door (embedded product): each gets a 4xx with a
// reason, never a 5xx or a stack trace, and the gateway answers a plain query afterwards. The
// callers accept application/graphql-response+json, whose request errors are 4xx; a caller of
// the legacy application/json gets 200 for a document that does not parse or validate, as GraphQL
// over HTTP says it should (graphql-over-http.test.ts).
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_hostile_key_0123456789';
let loupe: RunningLoupe;

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY);
}, 60_000);
afterAll(async () => loupe?.close());

const nest = (depth: number) =>
  `{ accounts { ${'posts { nodes { account { '.repeat(depth)}id${' } } }'.repeat(depth)} } }`;

const cases: [string, { body: string | Buffer; contentType?: string; method?: string }][] = [
  ['deep nesting', { body: JSON.stringify({ query: nest(40) }) }],
  [
    'an alias bomb',
    {
      body: JSON.stringify({
        query: `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: accounts { id }`).join(' ')} }`,
      }),
    },
  ],
  [
    'a directive bomb',
    { body: JSON.stringify({ query: `{ accounts { id ${'@include(if: true) '.repeat(300)} } }` }) },
  ],
  [
    'a fragment cycle',
    {
      body: JSON.stringify({
        query:
          '{ accounts { ...A } } fragment A on Account { id ...B } fragment B on Account { id ...A }',
      }),
    },
  ],
  ['a token flood', { body: JSON.stringify({ query: `{ ${'__typename '.repeat(20_000)} }` }) }],
  [
    'a body over 1 MiB',
    { body: JSON.stringify({ query: `{ accounts { id } } # ${'x'.repeat(1_100_000)}` }) },
  ],
  [
    'a batched array',
    { body: JSON.stringify([{ query: '{ accounts { id } }' }, { query: '{ accounts { id } }' }]) },
  ],
  ['a query that is not a string', { body: JSON.stringify({ query: { evil: true } }) }],
  [
    'variables that are not an object',
    {
      body: JSON.stringify({
        query: 'query ($id: ID!) { account(id: $id) { id } }',
        variables: [1, 2],
      }),
    },
  ],
  [
    'a variable of the wrong type',
    {
      body: JSON.stringify({
        query: 'query ($id: ID!) { account(id: $id) { id } }',
        variables: { id: { nested: 1 } },
      }),
    },
  ],
  [
    'an extensions field that is not an object',
    { body: JSON.stringify({ query: '{ accounts { id } }', extensions: 'yes' }) },
  ],
  ['a body that is not JSON', { body: '{"query": "{ accounts { id } }"' }],
  ['binary garbage', { body: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]) }],
  [
    'text/plain',
    { body: JSON.stringify({ query: '{ accounts { id } }' }), contentType: 'text/plain' },
  ],
  ['no content type', { body: JSON.stringify({ query: '{ accounts { id } }' }), contentType: '' }],
  ['a mutation over GET', { method: 'GET', body: '' }],
  [
    'an operation name that is not there',
    { body: JSON.stringify({ query: 'query A { accounts { id } }', operationName: 'B' }) },
  ],
  [
    'two operations and no name',
    { body: JSON.stringify({ query: 'query A { accounts { id } } query B { accounts { id } }' }) },
  ],
  ['an unknown field with a typo', { body: JSON.stringify({ query: '{ acounts { id } }' }) }],
];

test.each(cases)(
  '%s: a 4xx with a reason, no stack, and the gateway still answers',
  async (_, request) => {
    const method = request.method ?? 'POST';
    const target =
      method === 'GET'
        ? `${loupe.urls.gateway}?query=${encodeURIComponent('mutation { untrackAccount(id: "x") }')}`
        : loupe.urls.gateway!;
    const headers: Record<string, string> = {
      'x-api-key': KEY,
      accept: 'application/graphql-response+json',
    };
    const type = request.contentType ?? 'application/json';
    if (type) headers['content-type'] = type;
    if (method === 'GET') headers['content-type'] = 'application/json';
    const res = await fetch(target, {
      method,
      headers,
      ...(method === 'POST' && { body: request.body }),
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBeGreaterThanOrEqual(400);
    expect(res.status, text.slice(0, 300)).toBeLessThan(500);
    // A reason, and nothing of our internals.
    expect(text).toMatch(/"message"|"error"/);
    expect(text).not.toMatch(/stacktrace|node_modules|\/work\/|\.ts:\d+/);

    const after = await fetch(loupe.urls.gateway!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: '{ accounts { id } }' }),
    });
    expect(after.status).toBe(200);
  },
  30_000,
);
