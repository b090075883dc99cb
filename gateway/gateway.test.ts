// The gateway over real HTTP and WebSocket on 127.0.0.1, in front of two tiny in-process
// subgraphs: `metrics` owns a subscription fed by the test, `audience` owns Account.handle.
import { EventEmitter, on } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { Authenticator, Caller } from '../lib/auth/caller.ts';
import {
  createInternalTokens,
  INTERNAL_CALLER_HEADER,
  INTERNAL_CALLER_PARAM,
} from '../lib/auth/internal-token.ts';
import { serveGraphQL, type ServedGraphQL } from '../lib/graphql/serve.ts';
import { gatewayCaller } from '../lib/graphql/subgraph-context.ts';
import { createGateway } from './server.ts';

const KEY = 'key-org-1-0000000000';
const INGEST_KEY = 'key-org-1-ingest-000';
const PARTNER_KEY = 'key-org-1-partner-00';
const MEMBER_KEY = 'key-org-1-member-000';
const ROLES: Record<string, Pick<Caller, 'role' | 'client'>> = {
  [KEY]: { role: 'admin' },
  [INGEST_KEY]: { role: 'ingest' },
  [PARTNER_KEY]: { role: 'partner', client: 'acme-app' },
  [MEMBER_KEY]: { role: 'member' },
};
const authenticate: Authenticator = async (key) =>
  ROLES[key] ? { orgId: 'org-1', timeZone: 'UTC', ...ROLES[key] } : null;
const ADMIN: Caller = { orgId: 'org-1', timeZone: 'UTC', role: 'admin' };
const tokens = createInternalTokens('a-secret-only-this-test-knows-0123456789');

const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])`;

const METRICS_SDL = `${FEDERATION}
  type Account @key(fields: "id") {
    id: ID!
    score: Int!
  }
  type Tick {
    account: Account!
    delta: Int!
  }
  type Query {
    topScore: Int!
  }
  type Subscription {
    ticks(accountIds: [ID!]!): Tick!
  }
`;

const AUDIENCE_SDL = `${FEDERATION}
  type Account @key(fields: "id") {
    id: ID!
    handle: String!
  }
  type Query {
    accounts: [Account!]!
    account(id: ID!): Account
  }
`;

/** Composed but never started: every call to it fails, as a subgraph that is down. */
const POSTS_SDL = `${FEDERATION}
  type Account @key(fields: "id") {
    id: ID!
    postCount: Int!
  }
  type Query {
    postTotal: Int!
  }
`;

interface Tick {
  account: { id: string; score: number };
  delta: number;
}

/** Ticks the test pushes to every open `ticks` subscription of the metrics subgraph. */
const feed = new EventEmitter();
const openTicks = () => feed.listenerCount('tick');
const push = (tick: Tick) => feed.emit('tick', tick);

const metricsResolvers = {
  Account: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id, score: ref.id.length * 10 }),
  },
  Query: { topScore: () => 1 },
  Subscription: {
    ticks: {
      subscribe: (_: unknown, args: { accountIds: string[] }) => {
        if (args.accountIds.length === 0) {
          throw new GraphQLError('accountIds must not be empty', {
            extensions: { code: 'BAD_USER_INPUT' },
          });
        }
        // events.on returns at once when the consumer stops, which the teardown checks rely on.
        return on(feed, 'tick');
      },
      resolve: (payload: unknown[]) => payload[0],
    },
  },
};

const audienceResolvers = {
  Account: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    handle: (account: { id: string }) => {
      if (account.id === 'broken') throw new Error('secret detail of a broken store');
      return `@${account.id}`;
    },
  },
  Query: {
    accounts: () => [{ id: 'a1' }, { id: 'a22' }],
    account: (_: unknown, args: { id: string }) => ({ id: args.id }),
  },
};

interface TestSubgraph {
  served: ServedGraphQL;
  /** Callers the subgraph verified from the gateway's signed header (HTTP and graphql-ws). */
  callers: Caller[];
}

async function startSubgraph(sdl: string, resolvers: object): Promise<TestSubgraph> {
  const callers: Caller[] = [];
  const verify = async (token: unknown): Promise<Caller> => {
    const caller = await gatewayCaller(tokens, typeof token === 'string' ? token : undefined);
    callers.push(caller);
    return caller;
  };
  const schema = buildSubgraphSchema({
    typeDefs: parse(sdl),
    resolvers: resolvers as GraphQLResolverMap<unknown>,
  });
  const served = await serveGraphQL({
    apollo: new ApolloServer<Caller>({
      schema,
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    }),
    host: '127.0.0.1',
    port: 0,
    context: (req) => verify(req.headers[INTERNAL_CALLER_HEADER]),
    subscriptions: {
      schema,
      context: (params) => verify(params[INTERNAL_CALLER_PARAM]),
    },
  });
  return { served, callers };
}

async function unusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}

let metrics: TestSubgraph;
let audience: TestSubgraph;
let gateway: ServedGraphQL;

beforeAll(async () => {
  metrics = await startSubgraph(METRICS_SDL, metricsResolvers);
  audience = await startSubgraph(AUDIENCE_SDL, audienceResolvers);
  const down = await unusedUrl();
  const composed = composeServices([
    { name: 'metrics', url: 'http://composed.invalid/metrics', typeDefs: parse(METRICS_SDL) },
    { name: 'audience', url: 'http://composed.invalid/audience', typeDefs: parse(AUDIENCE_SDL) },
    { name: 'posts', url: 'http://composed.invalid/posts', typeDefs: parse(POSTS_SDL) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  gateway = await createGateway({
    supergraphSdl: composed.supergraphSdl,
    subgraphUrls: {
      metrics: metrics.served.url,
      audience: audience.served.url,
      posts: down,
      benchmarking: down,
      reports: down,
      admin: down,
      product: down,
    },
    authenticate,
    tokens,
  }).listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await metrics?.served.close();
  await audience?.served.close();
});

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: GraphQLFormattedError[] };
  text: string;
}

async function post(query: string, key?: string): Promise<Answer> {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key !== undefined && { 'x-api-key': key }) },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Answer['body'], text };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function wsClient(options: { apiKey?: string; header?: string } = {}): Client {
  const { apiKey, header } = options;
  class KeyedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, header === undefined ? {} : { headers: { 'x-api-key': header } });
    }
  }
  return createClient({
    url: gateway.url.replace(/^http/, 'ws'),
    webSocketImpl: KeyedWebSocket,
    ...(apiKey !== undefined && { connectionParams: { apiKey } }),
    retryAttempts: 0,
  });
}

interface Subscription {
  results: FormattedExecutionResult<Record<string, unknown>, unknown>[];
  /** Settles with the error the client received, or undefined on completion. */
  ended: Promise<unknown>;
  unsubscribe: () => void;
}

function subscribe(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription {
  const results: Subscription['results'] = [];
  let unsubscribe = () => {};
  const ended = new Promise<unknown>((resolve) => {
    unsubscribe = client.subscribe(
      { query, variables },
      { next: (r) => void results.push(r), error: resolve, complete: () => resolve(undefined) },
    );
  });
  return { results, ended, unsubscribe };
}

const TICKS = `subscription Live($ids: [ID!]!) {
  ticks(accountIds: $ids) { delta account { id score handle } }
}`;

describe('HTTP', () => {
  test('GET /health answers without a key', async () => {
    const res = await fetch(new URL('/health', gateway.url));
    expect(res.status).toBe(200);
  });

  test('a query across two subgraphs, with the verified caller signed for both', async () => {
    metrics.callers.length = 0;
    audience.callers.length = 0;
    const { status, body } = await post('{ accounts { id handle score } }', KEY);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: {
        accounts: [
          { id: 'a1', handle: '@a1', score: 20 },
          { id: 'a22', handle: '@a22', score: 30 },
        ],
      },
      // accounts 1: a list of 10 assumed; handle and score are scalars.
      extensions: {
        cost: {
          requested: 1,
          maximum: 10_000,
          budget: { limit: 1_000_000, remaining: 999_999, windowSeconds: 60 },
        },
      },
    });
    expect(audience.callers).toEqual([ADMIN]);
    expect(metrics.callers).toEqual([ADMIN]);
  });

  test.each([
    ['no key', undefined],
    ['an unknown key', 'not-a-key'],
  ])('%s: 401 UNAUTHENTICATED, and no subgraph is called', async (_, key) => {
    audience.callers.length = 0;
    const { status, body } = await post('{ accounts { id } }', key);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(body.data).toBeUndefined();
    expect(audience.callers).toEqual([]);
  });

  test.each([
    ['an ingest key', INGEST_KEY, /only post events to the collector/],
    [
      'a partner key, on a gateway built without trusted documents',
      PARTNER_KEY,
      /serves no partner manifests/,
    ],
  ])('%s: 403 FORBIDDEN with the reason, and no subgraph is called', async (_, key, reason) => {
    audience.callers.length = 0;
    const { status, body } = await post('{ accounts { id } }', key);
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(body.errors?.[0]?.message).toMatch(reason);
    expect(audience.callers).toEqual([]);
  });

  test('a member key queries', async () => {
    const { status, body } = await post('{ accounts { id } }', MEMBER_KEY);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  test('an ingest key cannot subscribe either: the socket closes with 4403', async () => {
    const client = wsClient({ apiKey: INGEST_KEY });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      client.on('closed', (event) => resolve(event as { code: number; reason: string })),
    );
    client.subscribe(
      { query: 'subscription { ticks(accountIds: ["a1"]) { delta } }' },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    const { code, reason } = await closed;
    expect(code).toBe(4403);
    expect(reason).toMatch(/ingest key/);
    await client.dispose();
  });

  test('an internal subgraph error is masked, its code kept', async () => {
    const { body, text } = await post('{ account(id: "broken") { id handle } }', KEY);
    expect(body.errors).toEqual([
      {
        message: 'internal error',
        path: ['account', 'handle'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(text).not.toContain('secret');
  });

  test('a subgraph that is down: UNAVAILABLE, without its name in extensions or its URL', async () => {
    const { body, text } = await post('{ accounts { id postCount } }', KEY);
    expect(body.data).toBeNull();
    expect(body.errors?.[0]).toMatchObject({
      message: 'the posts service is unavailable; retry later',
      extensions: { code: 'UNAVAILABLE' },
    });
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'UNAVAILABLE' });
    expect(text).not.toContain('127.0.0.1');
  });

  test('a subscription over HTTP is pointed at WebSocket', async () => {
    const { status, body } = await post(
      'subscription { ticks(accountIds: ["a1"]) { delta } }',
      KEY,
    );
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    expect(body.errors?.[0]?.message).toMatch(/graphql-ws/);
  });
});

describe('subscriptions over graphql-ws', () => {
  test('events pushed after subscribing arrive, with fields of another subgraph resolved', async () => {
    const client = wsClient({ apiKey: KEY });
    metrics.callers.length = 0;
    audience.callers.length = 0;
    const sub = subscribe(client, TICKS, { ids: ['a1'] });
    await waitFor('the upstream subscription', () => openTicks() === 1);
    expect(metrics.callers).toEqual([ADMIN]);

    push({ account: { id: 'a1', score: 7 }, delta: 5 });
    push({ account: { id: 'a22', score: 8 }, delta: -2 });
    await waitFor('two events', () => sub.results.length === 2);
    expect(sub.results).toEqual([
      { data: { ticks: { delta: 5, account: { id: 'a1', score: 7, handle: '@a1' } } } },
      { data: { ticks: { delta: -2, account: { id: 'a22', score: 8, handle: '@a22' } } } },
    ]);
    // Account.handle came from the audience subgraph, asked for the subscriber.
    expect(audience.callers).toEqual([ADMIN, ADMIN]);

    sub.unsubscribe();
    await expect(sub.ended).resolves.toBeUndefined();
    await waitFor('the upstream teardown', () => openTicks() === 0);
    await client.dispose();
  });

  test('aliases and __typename are shaped as asked; owner-only selections work', async () => {
    const client = wsClient({ apiKey: KEY });
    const sub = subscribe(
      client,
      'subscription { t: ticks(accountIds: ["a1"]) { __typename change: delta account { id } } }',
    );
    await waitFor('the upstream subscription', () => openTicks() === 1);
    push({ account: { id: 'a1', score: 1 }, delta: 3 });
    await waitFor('an event', () => sub.results.length === 1);
    expect(sub.results[0]).toEqual({
      data: { t: { __typename: 'Tick', change: 3, account: { id: 'a1' } } },
    });
    await client.dispose();
    await waitFor('the upstream teardown', () => openTicks() === 0);
  });

  test('the API key may come in the x-api-key header of the upgrade request', async () => {
    const client = wsClient({ header: KEY });
    const sub = subscribe(client, TICKS, { ids: ['a1'] });
    await waitFor('the upstream subscription', () => openTicks() === 1);
    push({ account: { id: 'a1', score: 1 }, delta: 1 });
    await waitFor('an event', () => sub.results.length === 1);
    await client.dispose();
    await waitFor('the upstream teardown', () => openTicks() === 0);
  });

  test('disconnecting the client tears the upstream subscription down', async () => {
    const client = wsClient({ apiKey: KEY });
    subscribe(client, TICKS, { ids: ['a1'] });
    subscribe(client, TICKS, { ids: ['a22'] });
    await waitFor('two upstream subscriptions', () => openTicks() === 2);
    await client.dispose();
    await waitFor('the upstream teardown', () => openTicks() === 0);
  });

  test.each([
    ['no key', {}],
    ['an unknown key', { apiKey: 'not-a-key' }],
  ])('%s: the connection is refused with 4403 and a reason', async (_, options) => {
    metrics.callers.length = 0;
    const client = wsClient(options);
    const sub = subscribe(client, TICKS, { ids: ['a1'] });
    const error = (await sub.ended) as { code?: number; reason?: string };
    expect(error.code).toBe(4403);
    expect(error.reason).toMatch(/valid API key is required/);
    expect(metrics.callers).toEqual([]);
    await client.dispose();
  });

  test('an unknown field is refused at the gateway, before any subgraph sees it', async () => {
    metrics.callers.length = 0;
    const client = wsClient({ apiKey: KEY });
    const sub = subscribe(client, 'subscription { ticks(accountIds: ["a1"]) { delta nope } }');
    const errors = (await sub.ended) as GraphQLFormattedError[];
    expect(errors.map((e) => e.message)).toEqual(['Cannot query field "nope" on type "Tick".']);
    expect(metrics.callers).toEqual([]);
    await client.dispose();
  });

  test('missing variables are refused at the gateway', async () => {
    const client = wsClient({ apiKey: KEY });
    const sub = subscribe(client, TICKS);
    await expect(sub.ended).resolves.toBeUndefined();
    expect(sub.results[0]?.errors?.[0]?.message).toMatch(/\$ids.*was not provided/);
    await client.dispose();
  });

  test("the subgraph's own errors are relayed with their code", async () => {
    const client = wsClient({ apiKey: KEY });
    const sub = subscribe(client, TICKS, { ids: [] });
    await expect(sub.ended).resolves.toBeUndefined();
    expect(sub.results).toHaveLength(1);
    expect(sub.results[0]?.errors).toEqual([
      {
        message: 'accountIds must not be empty',
        path: ['ticks'],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ]);
    await client.dispose();
  });

  test('an internal error inside an event is masked and the subscription goes on', async () => {
    const client = wsClient({ apiKey: KEY });
    const sub = subscribe(client, TICKS, { ids: ['broken', 'a1'] });
    await waitFor('the upstream subscription', () => openTicks() === 1);
    push({ account: { id: 'broken', score: 1 }, delta: 1 });
    push({ account: { id: 'a1', score: 1 }, delta: 2 });
    await waitFor('two events', () => sub.results.length === 2);
    expect(sub.results[0]).toEqual({
      data: null,
      errors: [
        {
          message: 'internal error',
          path: ['ticks', 'account', 'handle'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ],
    });
    expect(sub.results[1]?.data).toEqual({
      ticks: { delta: 2, account: { id: 'a1', score: 1, handle: '@a1' } },
    });
    await client.dispose();
    await waitFor('the upstream teardown', () => openTicks() === 0);
  });
});
