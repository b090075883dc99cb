// Funnels over an app's events. One statement tags each event from the range's start to its end
// plus the window with the steps and exclusions it matches (bitmasks) and, for an entry, its
// breakdown value, and groups them by person, keeping those with an entry in the range. Where
// funnel-walk.sql.ts gives the same answer, ClickHouse walks each person's way and counts the
// steps; otherwise each person's events come here and funnel-ways.ts, the reference, walks them.
import type { Olap } from '../../lib/olap/olap.port.ts';
import { badInput } from '../../lib/graphql/errors.ts';
import {
  bestWay,
  sortEvents,
  type Exclusion,
  type FunnelOrder,
  type FunnelRules,
  type PersonEvent,
  type Way,
} from './funnel-ways.ts';
import {
  entrySql,
  walkFiguresSql,
  walksInSql,
  type WalkFigures,
  type WalkShape,
} from './funnel-walk.sql.ts';
import {
  eventGroupText,
  eventPathsOf,
  eventText,
  filterSql,
  loadPathTypes,
  NOT_SET,
  personGroupSql,
  checkRegexes,
  regexesOf,
  SqlParams,
  type FilterInput,
  type PropertyRef,
} from './property-sql.ts';

export interface StepInput {
  event: string;
  where?: FilterInput | null;
  /** Only events that came from this social post (see the SDL's FunnelStep.post). */
  post?: string | null;
}

export interface FunnelRequest {
  orgId: string;
  appId: string;
  from: number;
  to: number;
  steps: readonly StepInput[];
  order: FunnelOrder;
  windowMs: number;
  where?: FilterInput | null;
  exclusions: readonly (StepInput & { fromStep: number; toStep?: number | null })[];
  breakdown: PropertyRef | null;
  breakdownLimit: number;
}

export interface StepResult {
  step: number;
  event: string;
  post: { __typename: 'Post'; id: string } | null;
  users: number;
  conversionFromPrevious: number | null;
  conversionFromFirst: number | null;
  medianSecondsToConvert: number | null;
  averageSecondsToConvert: number | null;
}

export const FUNNEL_LIMITS = { minSteps: 2, maxSteps: 20, maxWindowMs: 366 * 86_400_000 };

function checkRequest(q: FunnelRequest): Exclusion[] {
  if (!(q.to > q.from)) throw badInput('range.to must be after range.from');
  if (q.steps.length < FUNNEL_LIMITS.minSteps || q.steps.length > FUNNEL_LIMITS.maxSteps) {
    throw badInput(
      `a funnel has ${FUNNEL_LIMITS.minSteps} to ${FUNNEL_LIMITS.maxSteps} steps, got ${q.steps.length}`,
    );
  }
  if (!(q.windowMs >= 1000 && q.windowMs <= FUNNEL_LIMITS.maxWindowMs)) {
    throw badInput('the conversion window is 1 second to 366 days');
  }
  if (!(q.breakdownLimit >= 1 && q.breakdownLimit <= 1000)) {
    throw badInput('breakdownLimit must be 1 to 1000');
  }
  if (q.exclusions.length > 10) throw badInput('a funnel has at most 10 exclusions');
  const last = q.steps.length - 1;
  return q.exclusions.map((x, bit) => {
    const toStep = x.toStep ?? last;
    if (!(x.fromStep >= 0 && x.fromStep < toStep && toStep <= last)) {
      throw badInput(
        `exclusion ${JSON.stringify(x.event)}: steps ${x.fromStep} to ${toStep} must satisfy 0 ≤ fromStep < toStep ≤ ${last}`,
      );
    }
    if (q.order === 'UNORDERED' && (x.fromStep !== 0 || toStep !== last)) {
      throw badInput(
        `exclusion ${JSON.stringify(x.event)}: in an UNORDERED funnel an exclusion covers the whole funnel, steps 0 to ${last}`,
      );
    }
    return { bit, fromStep: x.fromStep, toStep };
  });
}

/** Where a post's id is looked for in an event's properties (the utm content of its link). */
const POST_PATHS = ['utm.content', 'utm_content'];

/**
 * Rows (person, t, m, x, g): each event from the range's start to its end plus the window, with
 * the steps (m) and exclusions (x) it matches as bitmasks, and an entry's breakdown text (g).
 * Whose events count is decided when they are grouped by person (entrySql).
 */
function taggedSql(q: FunnelRequest, params: SqlParams): string {
  const instant = (ms: number) => `fromUnixTimestamp64Milli(${params.bind(ms, 'Int64')}, 'UTC')`;
  // A post's events: its id as the event's postId, or as the utm content of the link followed.
  const fromPost = (post: string) => {
    const id = params.bind(post, 'String');
    const utm = POST_PATHS.map((path) => `ifNull(${eventText(path, params)} = ${id}, false)`);
    return `(e.post_id = ${id} OR ${utm.join(' OR ')})`;
  };
  const matches = (s: StepInput) =>
    [
      `event = ${params.bind(s.event, 'String')}`,
      ...[q.where, s.where]
        .filter((f): f is FilterInput => !!f)
        .map((f) => `(${filterSql(f, params)})`),
      ...(s.post ? [fromPost(s.post)] : []),
    ].join(' AND ');
  const steps = q.steps.map((s, i) => `if(${matches(s)}, ${2 ** i}, 0)`).join(' + ');
  const exclusions = q.exclusions.length
    ? q.exclusions.map((x, i) => `if(${matches(x)}, ${2 ** i}, 0)`).join(' + ')
    : '0';
  let group = "''";
  let join = '';
  if (q.breakdown) {
    if (q.breakdown.person) {
      join = `LEFT JOIN (${personGroupSql(q.breakdown.path, params)}) AS pb ON pb.user_id = e.user_id`;
      group = 'ifNull(pb.text, char(0))';
    } else {
      group = `ifNull(${eventGroupText(q.breakdown.path, params)}, char(0))`;
    }
  }
  // Only a STRICT funnel looks at the events that match nothing; the others read their names'.
  const names = [...new Set([...q.steps, ...q.exclusions].map((s) => s.event))];
  const named = q.order === 'STRICT' ? '' : `AND e.event IN ${params.bind(names, 'Array(String)')}`;
  return `SELECT person, t, m, x, g FROM (
       SELECT e.user_key AS person, toInt64(toUnixTimestamp64Milli(e.timestamp)) AS t,
              toUInt32(${steps}) AS m, toUInt32(${exclusions}) AS x, if(m != 0, ${group}, '') AS g
       FROM product_events AS e ${join}
       WHERE e.org_id = {org:String} AND e.app_id = {app:String} AND e.user_key != sipHash64('')
         AND e.timestamp >= ${instant(q.from)} AND e.timestamp < ${instant(q.to + q.windowMs)}
         ${named}
     )
     ${q.order === 'STRICT' ? '' : 'WHERE m != 0 OR x != 0'}`;
}

/** The walk's view of a funnel. */
const shapeOf = (q: FunnelRequest): WalkShape => ({
  order: q.order,
  steps: q.steps.length,
  windowMs: q.windowMs,
  from: q.from,
  to: q.to,
  breakdownLimit: q.breakdown ? q.breakdownLimit : null,
});

/** Each person's tagged events, for funnel-ways.ts. */
async function readPeople(
  olap: Olap,
  q: FunnelRequest,
  params: SqlParams,
): Promise<PersonEvent[][]> {
  const rows = await olap.query<{ ev: [number | string, number, number, string][] }>(
    `SELECT groupArray((t, m, x, g)) AS ev FROM (${taggedSql(q, params)})
     GROUP BY person HAVING countIf(${entrySql(shapeOf(q), params)}) > 0
     SETTINGS join_use_nulls = 1`,
    params.values,
  );
  return rows.map((r) =>
    r.ev.map(([t, steps, exclusions, g]) => ({
      t: Number(t),
      steps: Number(steps),
      exclusions: Number(exclusions),
      group: g === NOT_SET ? null : g,
    })),
  );
}

/** People per step, and the median and average seconds from the step before (none for step 0). */
interface StepFigures {
  users: number[];
  medians: (number | null)[];
  averages: (number | null)[];
}

interface FunnelFigures {
  everyone: StepFigures;
  groups: { breakdown: (string | null)[]; other: boolean; figures: StepFigures }[];
}

const median = (sorted: readonly number[]) => {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
};

/** Step figures over a set of people's ways. */
function figuresOf(ways: readonly Way[], steps: number): StepFigures {
  const reached = Array.from({ length: steps }, (_, i) => ways.filter((w) => w.times.length > i));
  const seconds = reached.map((list, i) =>
    list.map((w) => (i === 0 ? 0 : (w.times[i]! - w.times[i - 1]!) / 1000)).sort((a, b) => a - b),
  );
  return {
    users: reached.map((list) => list.length),
    medians: seconds.map((list, i) => (i > 0 && list.length > 0 ? median(list) : null)),
    averages: seconds.map((list, i) =>
      i > 0 && list.length > 0 ? list.reduce((a, b) => a + b, 0) / list.length : null,
    ),
  };
}

/** The figures from funnel-ways.ts over each person's events. */
async function figuresByWays(
  olap: Olap,
  q: FunnelRequest,
  exclusions: Exclusion[],
  params: SqlParams,
): Promise<FunnelFigures> {
  const rules: FunnelRules = {
    order: q.order,
    steps: q.steps.length,
    windowMs: q.windowMs,
    from: q.from,
    to: q.to,
    exclusions,
  };
  const ways = (await readPeople(olap, q, params)).flatMap((events) => {
    const way = bestWay(sortEvents(events), rules);
    return way ? [way] : [];
  });
  const k = q.steps.length;
  const groups: FunnelFigures['groups'] = [];
  if (q.breakdown) {
    const byGroup = new Map<string | null, Way[]>();
    for (const w of ways) {
      const list = byGroup.get(w.group);
      if (list) list.push(w);
      else byGroup.set(w.group, [w]);
    }
    const ranked = [...byGroup].sort(
      ([a, x], [b, y]) =>
        y.length - x.length || (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1),
    );
    for (const [group, list] of ranked.slice(0, q.breakdownLimit)) {
      groups.push({ breakdown: [group], other: false, figures: figuresOf(list, k) });
    }
    const rest = ranked.slice(q.breakdownLimit).flatMap(([, list]) => list);
    if (rest.length > 0) groups.push({ breakdown: [], other: true, figures: figuresOf(rest, k) });
  }
  return { everyone: figuresOf(ways, k), groups };
}

/** The figures from funnel-walk.sql.ts, counted inside ClickHouse. */
async function figuresInSql(
  olap: Olap,
  q: FunnelRequest,
  params: SqlParams,
): Promise<FunnelFigures> {
  const sql = walkFiguresSql(taggedSql(q, params), shapeOf(q), params);
  const rows = await olap.query<WalkFigures>(`${sql} SETTINGS join_use_nulls = 1`, params.values);
  const figures = (r: WalkFigures): StepFigures => ({
    users: r.users.map(Number),
    medians: r.medians.map((v) => (v === null ? null : Number(v))),
    averages: r.averages.map((v) => (v === null ? null : Number(v))),
  });
  const everyone = rows.find((r) => Number(r.everyone) === 1);
  const groups = rows.filter((r) => Number(r.everyone) === 0);
  const ranked = [...groups.filter((r) => Number(r.top) === 1)].sort(
    (a, b) =>
      Number(b.users[0]) - Number(a.users[0]) ||
      (a.g === b.g ? 0 : a.g === NOT_SET ? 1 : b.g === NOT_SET ? -1 : a.g < b.g ? -1 : 1),
  );
  const other = groups.find((r) => Number(r.top) === 0);
  return {
    everyone: everyone ? figures(everyone) : figuresOf([], q.steps.length),
    groups: [
      ...ranked.map((r) => ({
        breakdown: [r.g === NOT_SET ? null : r.g],
        other: false,
        figures: figures(r),
      })),
      ...(other ? [{ breakdown: [], other: true, figures: figures(other) }] : []),
    ],
  };
}

/** Step results from step figures: conversions follow from the people per step. */
function stepsOf(figures: StepFigures, q: FunnelRequest): StepResult[] {
  const first = figures.users[0]!;
  return q.steps.map((s, i) => {
    const users = figures.users[i]!;
    const previous = i === 0 ? users : figures.users[i - 1]!;
    return {
      step: i,
      event: s.event,
      post: s.post ? { __typename: 'Post' as const, id: s.post } : null,
      users,
      conversionFromPrevious: previous > 0 ? users / previous : null,
      conversionFromFirst: first > 0 ? users / first : null,
      medianSecondsToConvert: figures.medians[i] ?? null,
      averageSecondsToConvert: figures.averages[i] ?? null,
    };
  });
}

export async function runFunnel(olap: Olap, q: FunnelRequest) {
  const exclusions = checkRequest(q);
  await checkRegexes(
    olap,
    [q.where, ...q.steps.map((s) => s.where), ...q.exclusions.map((x) => x.where)].flatMap(
      regexesOf,
    ),
  );
  const types = await loadPathTypes(olap, q.orgId, q.appId, [
    ...[q.where, ...q.steps.map((s) => s.where), ...q.exclusions.map((x) => x.where)].flatMap(
      eventPathsOf,
    ),
    ...(q.steps.some((s) => s.post) ? POST_PATHS : []),
    ...(q.breakdown && !q.breakdown.person ? [q.breakdown.path] : []),
  ]);
  const params = new SqlParams({ org: q.orgId, app: q.appId }, types);
  const inSql = walksInSql(
    q.order,
    q.steps.map((s) => s.event),
    q.exclusions.length,
  );
  const figures = inSql
    ? await figuresInSql(olap, q, params)
    : await figuresByWays(olap, q, exclusions, params);
  return {
    steps: stepsOf(figures.everyone, q),
    breakdowns: figures.groups.map((g) => ({
      breakdown: g.breakdown,
      other: g.other,
      steps: stepsOf(g.figures, q),
    })),
  };
}
