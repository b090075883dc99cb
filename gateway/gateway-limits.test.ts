// The gateway's door over real HTTP, in front of one in-process subgraph whose resolver works in
// steps through an `abandonable` store: a deadline answers 504 and a caller who leaves is noticed,
// and either way the subgraph's request is cancelled and its store calls stop; beyond the bound,
// callers get an immediate 503 in GraphQL-over-HTTP shape; a drain lets queries in flight finish.
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Authenticator } from '../lib/auth/caller.ts';
import { createInternalTokens } from '../lib/auth/internal-token.ts';
import { defaultLimits, type ServerLimits } from '../lib/config.ts';
import { abandonable, requestSignal } from '../lib/graphql/request-signal.ts';
import { serveGraphQL, type ServedGraphQL } from '../lib/graphql/serve.ts';
import { createGateway } from './server.ts';

const KEY = 'key-org-1-0000000000';
const authenticate: Authenticator = async (key) =>
  key === KEY ? { orgId: 'org-1', timeZone: 'UTC', role: 'admin' as const } : null;
const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { slow(ms: Int!): Int! }
`;

/** What the subgraph saw: store calls made, and the codes its requests were aborted with. */
let steps = 0;
let aborted: string[] = [];
const store = abandonable({
  async step() {
    steps += 1;
    await new Promise((r) => setTimeout(r, 25));
  },
});
const resolvers = {
  Query: {
    slow: async (_: unknown, args: { ms: number }) => {
      requestSignal()?.addEventListener('abort', function (this: AbortSignal) {
        const reason: unknown = this.reason;
        aborted.push(reason instanceof GraphQLError ? String(reason.extensions['code']) : '?');
      });
      const until = Date.now() + args.ms;
      while (Date.now() < until) await store.step();
      return args.ms;
    },
  },
};

const LIMITS: ServerLimits = {
  ...defaultLimits('gateway'),
  maxInFlight: 2,
  maxQueued: 0,
  deadlineMs: 800,
  drainMs: 3_000,
};

let subgraph: ServedGraphQL;
let gateway: ServedGraphQL;

beforeAll(async () => {
  subgraph = await serveGraphQL({
    apollo: new ApolloServer({
      schema: buildSubgraphSchema({
        typeDefs: parse(SDL),
        resolvers,
      }),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
      stopOnTerminationSignals: false,
    }),
    host: '127.0.0.1',
    port: 0,
    context: async () => ({}),
  });
  const composed = composeServices([
    { name: 'metrics', url: 'http://composed.invalid/metrics', typeDefs: parse(SDL) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const down = 'http://127.0.0.1:9/graphql';
  gateway = await createGateway({
    supergraphSdl: composed.supergraphSdl,
    subgraphUrls: {
      metrics: subgraph.url,
      audience: down,
      posts: down,
      benchmarking: down,
      reports: down,
      admin: down,
      product: down,
    },
    authenticate,
    tokens: createInternalTokens('a-secret-only-this-test-knows-0123456789'),
    limits: LIMITS,
  }).listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await subgraph?.close();
});

beforeEach(() => {
  steps = 0;
  aborted = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function slow(ms: number, init: { signal?: AbortSignal; accept?: string } = {}) {
  return fetch(gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': KEY,
      ...(init.accept && { accept: init.accept }),
    },
    body: JSON.stringify({ query: `{ slow(ms: ${ms}) }` }),
    ...(init.signal && { signal: init.signal }),
  });
}

/** Steps made by then, and whether any were made in the half second after. */
async function stepsStop(): Promise<boolean> {
  await sleep(150);
  const before = steps;
  await sleep(500);
  return steps === before;
}

describe('gateway limits', () => {
  test('past its deadline a query is answered 504 and its subgraph work stops', async () => {
    const started = Date.now();
    const res = await slow(5_000);
    const body = (await res.json()) as { data?: unknown; errors?: { extensions?: object }[] };
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(res.status).toBe(504);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'DEADLINE_EXCEEDED' });
    expect(await stepsStop()).toBe(true);
    // The gateway closed its fetch; the subgraph saw its caller leave.
    expect(aborted).toEqual(['CANCELLED']);
    expect(steps).toBeLessThan(60); // 5 s of 25 ms steps would be 200
  });

  test('a caller who disconnects cancels the subgraph fetch and its store calls', async () => {
    const controller = new AbortController();
    const pending = slow(5_000, { signal: controller.signal }).catch(() => 'gone');
    await sleep(200);
    controller.abort();
    expect(await pending).toBe('gone');
    expect(await stepsStop()).toBe(true);
    expect(aborted).toEqual(['CANCELLED']);
    expect(steps).toBeLessThan(40);
  });

  test('beyond the in-flight bound callers get 503 with Retry-After at once', async () => {
    const busy = [slow(600), slow(600)];
    await sleep(100);
    const started = Date.now();
    const [plain, graphqlResponse] = await Promise.all([
      slow(10),
      slow(10, { accept: 'application/graphql-response+json' }),
    ]);
    expect(Date.now() - started).toBeLessThan(300);
    for (const res of [plain, graphqlResponse]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual({
        errors: [
          {
            message: 'the service is at capacity; retry after a second',
            extensions: { code: 'OVERLOADED' },
          },
        ],
      });
    }
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(graphqlResponse.headers.get('content-type')).toMatch(
      /^application\/graphql-response\+json/,
    );
    expect((await Promise.all(busy)).map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('gateway drain', () => {
  test('a query in flight when the gateway closes gets its answer', async () => {
    const pending = slow(500);
    await sleep(150);
    const closing = gateway.close();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: { slow: 500 } });
    await closing;
    await expect(slow(10)).rejects.toThrow();
  });
});
