// Demand control through the running product's gateway (embedded stores), with limits small
// enough to reach: every refusal is a 4xx with its code and reason before any subgraph works,
// rates and budgets answer 429 with Retry-After, and every answer says what it cost.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_demand_key_0123456789';
const BUDGET = 60;
const KEY_RATE = 12;
let loupe: RunningLoupe;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
    extensions?: { cost?: Record<string, unknown> };
  };
}

async function ask(key: string, body: unknown): Promise<Answer> {
  const res = await fetch(loupe.urls.gateway!, {
    method: 'POST',
    // The modern media type: request errors are 4xx (legacy application/json gets 200 for some).
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      'x-api-key': key,
    },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Answer['body'],
  };
}

const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.['code'];

beforeAll(async () => {
  loupe = await startEmbeddedProduct(KEY, {
    LOUPE_MAX_DEPTH: '5',
    LOUPE_MAX_ALIASES: '3',
    LOUPE_MAX_ROOT_FIELDS: '4',
    LOUPE_MAX_DIRECTIVES: '4',
    LOUPE_MAX_TOKENS: '300',
    LOUPE_MAX_OPERATION_COST: '40',
    LOUPE_COST_BUDGET_PER_MINUTE: String(BUDGET),
    LOUPE_KEY_REQUESTS_PER_MINUTE: String(KEY_RATE),
  });
}, 60_000);
afterAll(async () => loupe?.close());

describe('documents', () => {
  test.each([
    [
      'too deep',
      '{ accounts { posts { nodes { account { posts { nodes { id } } } } } } }',
      'MAX_DEPTH_EXCEEDED',
    ],
    [
      'an alias bomb',
      '{ a: accounts { id } b: accounts { id } c: accounts { id } d: accounts { id } }',
      'MAX_ALIASES_EXCEEDED',
    ],
    [
      'too many root fields',
      '{ accounts { id } organisation { name } apiKeys { id } partnerClients { name } __typename }',
      'MAX_ROOT_FIELDS_EXCEEDED',
    ],
    [
      'a directive bomb',
      '{ accounts @include(if: true) { id @skip(if: false) } organisation @skip(if: false) { name @include(if: true) id @include(if: true) } }',
      'MAX_DIRECTIVES_EXCEEDED',
    ],
  ])('%s: 400 with the code, the limit and what was found', async (_, query, code) => {
    const answer = await ask(KEY, { query });
    expect([answer.status, codeOf(answer)]).toEqual([400, code]);
    expect(answer.body.errors?.[0]?.message).toMatch(/at most \d+ may/);
    expect(answer.body.data).toBeUndefined();
  });

  test('past the token limit the document is refused while it is parsed', async () => {
    const query = `{ ${Array.from({ length: 400 }, () => '__typename').join(' ')} }`;
    const answer = await ask(KEY, { query });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.message).toMatch(/Document contains more th(an|at) 300 tokens/); // graphql-js spells it "that";
  });

  test('an operation costing more than the maximum is refused with its cost', async () => {
    const answer = await ask(KEY, {
      query:
        '{ metrics(range: { from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" }, granularity: HOUR) { groups { series { total } } } }',
    });
    expect([answer.status, codeOf(answer)]).toEqual([400, 'MAX_COST_EXCEEDED']);
    const cost = answer.body.errors?.[0]?.extensions?.['cost'] as {
      requested: number;
      maximum: number;
    };
    expect(cost.maximum).toBe(40);
    expect(cost.requested).toBeGreaterThan(40);
  });
});

describe('budgets and rates', () => {
  test('every answer reports its cost; costOnly runs nothing and spends nothing', async () => {
    const { apiKey } = await loupe.createOrganisation('Cost org');
    const query = '{ accounts { id } }';
    const only = await ask(apiKey, { query, extensions: { costOnly: true } });
    expect(only.status).toBe(200);
    expect(only.body).toEqual({
      extensions: { cost: { requested: 1, maximum: 40, costOnly: true } },
    });
    const run = await ask(apiKey, { query });
    expect(run.body.data).toEqual({ accounts: [] });
    expect(run.body.extensions?.cost).toEqual({
      requested: 1,
      maximum: 40,
      budget: { limit: BUDGET, remaining: BUDGET - 1, windowSeconds: 60 },
    });
  });

  test("an organisation past its budget gets 429 with Retry-After and what remains; another's is untouched", async () => {
    const { apiKey: spender } = await loupe.createOrganisation('Spender');
    const { apiKey: other } = await loupe.createOrganisation('Other');
    // 30 points each (organisation 1 + keys 1 + accounts 1 + ...): build one of known cost.
    const query = `{ accounts { posts(first: 2) { nodes { id } } } }`; // 1 + 10 + 10 = 21 points
    const first = await ask(spender, { query });
    expect(first.body.extensions?.cost?.['requested']).toBe(21);
    const second = await ask(spender, { query });
    expect(second.status).toBe(200);
    const third = await ask(spender, { query });
    expect([third.status, codeOf(third)]).toEqual([429, 'BUDGET_EXCEEDED']);
    expect(Number(third.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(third.body.errors?.[0]?.extensions?.['cost']).toMatchObject({
      requested: 21,
      budget: { limit: BUDGET, remaining: BUDGET - 42 },
    });
    expect(third.body.data).toBeUndefined();
    expect((await ask(other, { query })).status).toBe(200);
  });

  test('a key past its request rate gets 429 RATE_LIMITED with Retry-After', async () => {
    const { apiKey } = await loupe.createOrganisation('Chatty');
    const answers: Answer[] = [];
    for (let i = 0; i < KEY_RATE + 1; i++)
      answers.push(await ask(apiKey, { query: '{ __typename }' }));
    expect(answers.slice(0, KEY_RATE).every((a) => a.status === 200)).toBe(true);
    const last = answers.at(-1)!;
    expect([last.status, codeOf(last)]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(last.retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe('subscriptions', () => {
  test('a subscription is held to the same limits when it starts', async () => {
    const client = createClient({
      url: loupe.urls.gateway!.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: KEY },
      retryAttempts: 0,
    });
    type Errors = { message: string; extensions?: { code?: string } }[];
    // The refusal comes as the subscription's one result, with no data, and then it completes.
    const refused = new Promise<Errors | undefined>((resolve) => {
      client.subscribe(
        {
          query:
            'subscription { metricTicks(accountIds: ["a"]) { account { posts { nodes { account { id } } } } } }',
        },
        {
          next: (result) => resolve(result.errors as Errors | undefined),
          error: (error) => resolve(error as Errors),
          complete: () => resolve(undefined),
        },
      );
    });
    const errors = await refused;
    await client.dispose();
    expect(errors?.[0]?.extensions?.code).toBe('MAX_DEPTH_EXCEEDED');
    expect(errors?.[0]?.message).toMatch(/at most 5 may/);
  });
});
