// Funnels over an app's events. One statement reads, for each person with an entry in the range,
// their events from the range's start to its end plus the window, each tagged with the steps and
// exclusions it matches (bitmasks) and, for an entry, its breakdown value; funnel-ways.ts finds
// each person's way through, and the steps are counted here.
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
  eventGroupText,
  eventText,
  filterSql,
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

/** A person's events, tagged, for every person with an entry in the range. */
async function readPeople(olap: Olap, q: FunnelRequest): Promise<PersonEvent[][]> {
  const params = new SqlParams({ org: q.orgId, app: q.appId });
  const instant = (ms: number) => `fromUnixTimestamp64Milli(${params.bind(ms, 'Int64')}, 'UTC')`;
  // A post's events: its id as the event's postId, or as the utm content of the link followed.
  const fromPost = (post: string) => {
    const id = params.bind(post, 'String');
    const utm = ['utm.content', 'utm_content'].map(
      (path) => `ifNull(${eventText(path, params)} = ${id}, false)`,
    );
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
  // Entries: the first step (any step, unordered) in the range.
  const entrySteps = q.order === 'UNORDERED' ? q.steps : q.steps.slice(0, 1);
  const entrants = `SELECT DISTINCT user_id FROM product_events AS e
    WHERE org_id = {org:String} AND app_id = {app:String} AND user_id != ''
      AND timestamp >= ${instant(q.from)} AND timestamp < ${instant(q.to)}
      AND (${entrySteps.map((s) => `(${matches(s)})`).join(' OR ')})`;
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
  const rows = await olap.query<{ ev: [number | string, number, number, string][] }>(
    `SELECT groupArray((t, m, x, g)) AS ev
     FROM (
       SELECT e.user_id AS user_id, toInt64(toUnixTimestamp64Milli(e.timestamp)) AS t,
              toUInt32(${steps}) AS m, toUInt32(${exclusions}) AS x, if(m != 0, ${group}, '') AS g
       FROM product_events AS e ${join}
       WHERE e.org_id = {org:String} AND e.app_id = {app:String}
         AND e.timestamp >= ${instant(q.from)} AND e.timestamp < ${instant(q.to + q.windowMs)}
         AND e.user_id IN (${entrants})
     )
     ${q.order === 'STRICT' ? '' : 'WHERE m != 0 OR x != 0'}
     GROUP BY user_id
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

const median = (sorted: readonly number[]) => {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
};

/** Step figures over a set of people's ways. */
function stepsOf(ways: readonly Way[], q: FunnelRequest): StepResult[] {
  const reached = q.steps.map((_, i) => ways.filter((w) => w.times.length > i));
  return q.steps.map((s, i) => {
    const users = reached[i]!.length;
    const previous = i === 0 ? users : reached[i - 1]!.length;
    const first = reached[0]!.length;
    const seconds = reached[i]!.map((w) =>
      i === 0 ? 0 : (w.times[i]! - w.times[i - 1]!) / 1000,
    ).sort((a, b) => a - b);
    return {
      step: i,
      event: s.event,
      post: s.post ? { __typename: 'Post' as const, id: s.post } : null,
      users,
      conversionFromPrevious: previous > 0 ? users / previous : null,
      conversionFromFirst: first > 0 ? users / first : null,
      medianSecondsToConvert: i > 0 && users > 0 ? median(seconds) : null,
      averageSecondsToConvert:
        i > 0 && users > 0 ? seconds.reduce((a, b) => a + b, 0) / users : null,
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
  const rules: FunnelRules = {
    order: q.order,
    steps: q.steps.length,
    windowMs: q.windowMs,
    from: q.from,
    to: q.to,
    exclusions,
  };
  const ways = (await readPeople(olap, q)).flatMap((events) => {
    const way = bestWay(sortEvents(events), rules);
    return way ? [way] : [];
  });
  const breakdowns: { breakdown: (string | null)[]; other: boolean; steps: StepResult[] }[] = [];
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
      breakdowns.push({ breakdown: [group], other: false, steps: stepsOf(list, q) });
    }
    const rest = ranked.slice(q.breakdownLimit).flatMap(([, list]) => list);
    if (rest.length > 0) breakdowns.push({ breakdown: [], other: true, steps: stepsOf(rest, q) });
  }
  return { steps: stepsOf(ways, q), breakdowns };
}
