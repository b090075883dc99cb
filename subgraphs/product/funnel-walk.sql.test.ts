// The walk in ClickHouse against the walk in TypeScript (funnel-ways.ts): random people with ties,
// events matching several steps or none, entries on both sides of the range and every order
// mode, each case answered by both and compared figure by figure.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { seeded } from '../../test/support/known-batch.ts';
import { walkFiguresSql, type WalkFigures, type WalkShape } from './funnel-walk.sql.ts';
import {
  bestWay,
  sortEvents,
  type FunnelOrder,
  type PersonEvent,
  type Way,
} from './funnel-ways.ts';
import { NOT_SET, SqlParams } from './property-sql.ts';

const CASES = 150;
const ORDERS: FunnelOrder[] = ['ORDERED', 'STRICT', 'UNORDERED'];
const GROUPS = ['a', 'b', 'c', NOT_SET];

interface Case extends WalkShape {
  id: number;
  people: { user: string; events: PersonEvent[] }[];
}

function makeCase(id: number): Case {
  const random = seeded(1000 + id);
  const int = (n: number) => Math.floor(random() * n);
  const order = ORDERS[id % 3]!;
  const steps = 2 + int(4);
  const base = Date.UTC(2026, 10, 1);
  const people = Array.from({ length: 25 }, (_, p) => {
    const events = Array.from({ length: int(20) }, (): PersonEvent => {
      // Unordered funnels here have steps on distinct events: one step per event at most.
      const drawn = order === 'UNORDERED' ? 1 << int(steps) : int(2 ** steps);
      // Only a STRICT funnel reads the events that match no step.
      const mask = order === 'STRICT' || drawn !== 0 ? drawn : 1;
      return {
        t: base + int(120) * 30_000 + (random() < 0.1 ? 1 : 0),
        steps: mask,
        exclusions: 0,
        group: mask === 0 ? '' : GROUPS[int(GROUPS.length)]!,
      };
    });
    return { user: `u${p}`, events };
  });
  const from = base + int(40) * 30_000;
  return {
    id,
    order,
    steps,
    windowMs: [1_000, 60_000, 300_000, 1_800_000, 3_600_000][int(5)]!,
    from,
    to: from + (1 + int(60)) * 30_000,
    breakdownLimit: random() < 0.3 ? null : 1 + int(3),
    people,
  };
}

interface Figures {
  users: number[];
  medians: (number | null)[];
  averages: (number | null)[];
}

/** What the figures should be, from funnel-ways.ts's ways, counted plainly. */
function expected(ways: readonly Way[], steps: number): Figures {
  const users: number[] = [];
  const medians: (number | null)[] = [];
  const averages: (number | null)[] = [];
  for (let s = 0; s < steps; s++) {
    const reached = ways.filter((w) => w.times.length > s);
    users.push(reached.length);
    const seconds = reached
      .map((w) => (w.times[s]! - w.times[s - 1]!) / 1000)
      .sort((a, b) => a - b);
    const n = seconds.length;
    const mid = n % 2 ? seconds[(n - 1) / 2]! : (seconds[n / 2 - 1]! + seconds[n / 2]!) / 2;
    medians.push(s === 0 || n === 0 ? null : mid);
    averages.push(s === 0 || n === 0 ? null : seconds.reduce((a, b) => a + b, 0) / n);
  }
  return { users, medians, averages };
}

function expectFigures(where: string, got: WalkFigures | undefined, want: Figures) {
  expect(got, where).toBeDefined();
  expect(got!.users.map(Number), `${where} users`).toEqual(want.users);
  want.medians.forEach((m, s) => {
    const pairs = [
      ['median', got!.medians[s], m],
      ['average', got!.averages[s], want.averages[s]],
    ] as const;
    for (const [what, value, wanted] of pairs) {
      if (wanted === null || wanted === undefined)
        expect(value, `${where} ${what} ${s}`).toBeNull();
      else expect(Number(value), `${where} ${what} ${s}`).toBeCloseTo(wanted, 9);
    }
  });
}

let olap: Olap;
const cases = Array.from({ length: CASES }, (_, i) => makeCase(i));

beforeAll(async () => {
  olap = createChdbOlap({ dataDir: await mkdtemp(join(tmpdir(), 'loupe-funnel-walk-')) });
  await olap.command(
    `CREATE TABLE walk_cases (case_id UInt32, user_id String, t Int64, m UInt32, x UInt32, g String)
     ENGINE = MergeTree ORDER BY (case_id, user_id)`,
  );
  await olap.insert(
    'walk_cases',
    cases.flatMap((c) =>
      c.people.flatMap((p) =>
        p.events.map((e) => ({
          case_id: c.id,
          user_id: p.user,
          t: e.t,
          m: e.steps,
          x: 0,
          g: e.group,
        })),
      ),
    ),
  );
}, 60_000);
afterAll(async () => olap?.close());

test.each(cases.map((c) => [`${c.id}: ${c.order}, ${c.steps} steps`, c] as const))(
  'case %s: the same figures as funnel-ways.ts',
  async (_, c) => {
    const params = new SqlParams({ c: c.id });
    const sql = walkFiguresSql(
      'SELECT user_id AS person, t, m, x, g FROM walk_cases WHERE case_id = {c:UInt32}',
      c,
      params,
    );
    const rows = await olap.query<WalkFigures>(sql, params.values);

    const rules = { ...c, exclusions: [] };
    const ways = c.people.flatMap((p) => {
      const way = bestWay(sortEvents(p.events.map((e) => ({ ...e }))), rules);
      return way ? [way] : [];
    });
    expectFigures(
      'everyone',
      rows.find((r) => Number(r.everyone) === 1) ?? emptyRow(c),
      expected(ways, c.steps),
    );
    if (c.breakdownLimit === null) return;

    const byGroup = new Map<string, Way[]>();
    for (const w of ways) byGroup.set(w.group!, [...(byGroup.get(w.group!) ?? []), w]);
    const ranked = [...byGroup].sort(
      ([a, x], [b, y]) =>
        y.length - x.length || (a === NOT_SET ? 1 : b === NOT_SET ? -1 : a < b ? -1 : 1),
    );
    const groups = rows.filter((r) => Number(r.everyone) === 0);
    const top = ranked.slice(0, c.breakdownLimit);
    expect(
      groups
        .filter((r) => Number(r.top) === 1)
        .map((r) => r.g)
        .sort(),
      'the top groups',
    ).toEqual(top.map(([g]) => g).sort());
    for (const [g, list] of top) {
      expectFigures(
        `group ${JSON.stringify(g)}`,
        groups.find((r) => Number(r.top) === 1 && r.g === g),
        expected(list, c.steps),
      );
    }
    const rest = ranked.slice(c.breakdownLimit).flatMap(([, list]) => list);
    const other = groups.find((r) => Number(r.top) === 0);
    if (rest.length === 0) expect(other, 'no Other').toBeUndefined();
    else expectFigures('Other', other, expected(rest, c.steps));
  },
);

/** With a breakdown and nobody in the funnel, no row comes back: it reads as zeros. */
function emptyRow(c: Case): WalkFigures {
  return {
    everyone: 1,
    top: 0,
    g: '',
    users: Array.from({ length: c.steps }, () => 0),
    medians: Array.from({ length: c.steps }, () => null),
    averages: Array.from({ length: c.steps }, () => null),
  };
}

test('the cases reach every step and hit ties', () => {
  const deepest = cases.map((c) => {
    const rules = { ...c, exclusions: [] };
    return Math.max(
      0,
      ...c.people.map((p) => bestWay(sortEvents([...p.events]), rules)?.times.length ?? 0),
    );
  });
  for (const order of ORDERS) {
    const full = cases.filter((c, i) => c.order === order && deepest[i] === c.steps);
    expect(full.length, `${order} cases with a full way`).toBeGreaterThan(5);
  }
});

test('one person with 100,000 events is walked too (no per-element copy of their arrays)', async () => {
  const base = Date.UTC(2026, 10, 1);
  const events: PersonEvent[] = Array.from({ length: 100_000 }, (_, i) => ({
    t: base + i * 1_000,
    steps: 1 << (i % 3),
    exclusions: 0,
    group: '',
  }));
  await olap.insert(
    'walk_cases',
    events.map((e) => ({ case_id: 999_999, user_id: 'heavy', t: e.t, m: e.steps, x: 0, g: '' })),
  );
  for (const order of ORDERS) {
    const shape = {
      order,
      steps: 3,
      windowMs: 60_000,
      from: base,
      to: base + 86_400_000,
      breakdownLimit: null,
    };
    const params = new SqlParams({ c: 999_999 });
    const [row] = await olap.query<WalkFigures>(
      walkFiguresSql(
        'SELECT user_id AS person, t, m, x, g FROM walk_cases WHERE case_id = {c:UInt32}',
        shape,
        params,
      ),
      params.values,
    );
    const way = bestWay(sortEvents(events.map((e) => ({ ...e }))), { ...shape, exclusions: [] });
    expectFigures(order, row, expected(way ? [way] : [], 3));
  }
}, 120_000);
