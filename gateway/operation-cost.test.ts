// The cost model and the document measures, on the real API schema: each figure is worked out by
// hand from the model's rules (operation-cost.ts), so a change to the rules shows here.
import { isEnumType, parse } from 'graphql';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadApiSchema } from '../schema/api-schema.ts';
import { measureOperation } from './operation-cost.ts';

let schema: Awaited<ReturnType<typeof loadApiSchema>>;
beforeAll(async () => {
  schema = await loadApiSchema();
});

const measure = (query: string, variables: Record<string, unknown> = {}) =>
  measureOperation(schema, parse(query), undefined, variables)!;

describe('cost', () => {
  test('a 30-day daily series of every metric: account 1 + metrics 1 + series 1 × 31 points', () => {
    const metricType = schema.getType('Metric');
    const metricCount = isEnumType(metricType) ? metricType.getValues().length : 0;
    expect(metricCount).toBeGreaterThan(10);
    const shape = measure(
      `query ($id: ID!) { account(id: $id) { metrics(range: { from: "2026-03-01T00:00:00Z", to: "2026-03-31T00:00:00Z" }, granularity: DAY) { series { metric total points { at value } } } } }`,
      { id: 'a' },
    );
    // account, metrics, series (a list of 10 assumed), points (a list of 10 under each series).
    const objects = 1 + 1 + 1 + 10;
    const series = Math.ceil((31 * metricCount) / 100);
    expect(shape.cost).toBe(objects + series);
  });

  test('lists are as long as their first argument, and nested lists multiply', () => {
    const shape = measure(
      '{ feed(accountIds: ["a"], first: 50) { nodes { id comments(first: 5) { id } } } }',
    );
    // feed 1, nodes 1 (the connection's 50), comments 1 under each of the 50 nodes.
    expect(shape.cost).toBe(1 + 1 + 50);
    const wider = measure(
      '{ topPosts(range: { from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z" }, first: 40) { nodes { post { id } } } }',
    );
    expect(wider.cost).toBeGreaterThan(1);
  });

  test('Query.metrics counts every account asked for, and a comparison twice', () => {
    const q = (accounts: string, compare: string) =>
      measure(
        `{ metrics(accounts: ${accounts}, range: { from: "2026-03-01T00:00:00Z", to: "2026-03-11T00:00:00Z" }, granularity: DAY, metrics: [LIKES]${compare}) { groups { key } } }`,
      ).cost;
    const one = q('{ ids: ["a"] }', '');
    const five = q('{ ids: ["a", "b", "c", "d", "e"] }', '');
    const all = q('{ platforms: [X] }', '');
    // 11 buckets × 1 metric per account: ceil(11/100) for one, ceil(55/100) for five, 2200/100 for all.
    expect([one, five, all]).toEqual([1 + 1 + 1, 1 + 1 + 1, 1 + 1 + 22]);
    expect(q('{ platforms: [X] }', ', compare: PREVIOUS_PERIOD')).toBe(1 + 1 + 44);
  });

  test('an hourly series over a year costs what it returns', () => {
    const shape = measure(
      '{ account(id: "a") { metrics(range: { from: "2025-03-01T00:00:00Z", to: "2026-03-01T00:00:00Z" }, granularity: HOUR, metrics: [LIKES, SHARES]) { series { total } } } }',
    );
    expect(shape.cost).toBe(1 + 1 + 1 + Math.ceil(((365 * 24 + 1) * 2) / 100));
  });
});

describe('shape', () => {
  test('depth, aliases, root fields and directives, through fragments', () => {
    const shape = measure(`
      query { a: accounts { ...F } b: accounts { id @include(if: true) } organisation { name } }
      fragment F on Account { id posts(first: 1) { nodes { id } } }
    `);
    expect(shape).toMatchObject({ depth: 4, aliases: 2, rootFields: 3, directives: 1 });
  });

  test('a fragment cycle is walked once, not for ever', () => {
    const shape = measure(`
      { accounts { ...A } }
      fragment A on Account { id ...B }
      fragment B on Account { handle ...A }
    `);
    expect(shape.depth).toBe(2);
  });
});
