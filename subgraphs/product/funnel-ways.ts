// One person's way through a funnel, from their events in time order: the furthest step any
// entry reaches under the order mode (schema/subgraphs/product.graphql FunnelOrder) by a way no
// exclusion voids, and the time of each step on that way. Each entry's way takes the earliest
// events that fit; of all entries, the one reaching the furthest wins, the earliest on a tie.

export type FunnelOrder = 'ORDERED' | 'STRICT' | 'UNORDERED';

/** An event of the person: its time (ms), the steps it matches and exclusions it is (bitmasks). */
export interface PersonEvent {
  t: number;
  steps: number;
  exclusions: number;
  /** Its breakdown value, for an entry: the text, or null when not set. */
  group: string | null;
}

export interface Exclusion {
  /** Bit of PersonEvent.exclusions. */
  bit: number;
  fromStep: number;
  toStep: number;
}

export interface FunnelRules {
  order: FunnelOrder;
  steps: number;
  windowMs: number;
  from: number;
  to: number;
  exclusions: readonly Exclusion[];
}

export interface Way {
  /** Times of the steps reached, in step order (under UNORDERED, in the order they came). */
  times: number[];
  group: string | null;
}

const has = (mask: number, bit: number) => (mask & (1 << bit)) !== 0;

/**
 * Sorted by time, and at one millisecond by the lowest step matched: ties are taken in the order
 * that completes the most steps. Then by the whole mask, so that the order never depends on the
 * order rows came in (funnel-walk.sql.ts sorts the same way).
 */
export function sortEvents(events: PersonEvent[]): PersonEvent[] {
  const lowest = (e: PersonEvent) => (e.steps === 0 ? 32 : 31 - Math.clz32(e.steps & -e.steps));
  return events.sort((a, b) => a.t - b.t || lowest(a) - lowest(b) || a.steps - b.steps);
}

/** Whether an exclusion voids the way with these step times, its window ending at `end`. */
function voided(
  times: readonly number[],
  events: readonly PersonEvent[],
  rules: FunnelRules,
  end: number,
): boolean {
  return rules.exclusions.some((x) => {
    // A way that never reached fromStep has nothing to be excluded from.
    if (times.length <= x.fromStep) return false;
    const after = times[x.fromStep]!;
    const reached = times.length > x.toStep;
    const before = reached ? times[x.toStep]! : end;
    return events.some(
      (e) => has(e.exclusions, x.bit) && e.t > after && (reached ? e.t < before : e.t <= end),
    );
  });
}

/** Ways explored from one entry at most, when exclusions make the earliest events not enough. */
const MAX_WAYS = 10_000;

/**
 * The furthest way from the entry at index `i` that no exclusion voids (earliest events first,
 * so of equal ways the earliest), or undefined when even the entry alone is voided. Without
 * exclusions the earliest event for each step is always best; with them, later ones are tried.
 */
function wayFrom(
  events: readonly PersonEvent[],
  i: number,
  rules: FunnelRules,
): number[] | undefined {
  const entry = events[i]!;
  const end = entry.t + rules.windowMs;
  if (rules.order === 'UNORDERED') {
    // Each step once, each event for one step: the first event to cover a step not yet covered.
    const covered = new Set<number>();
    const firstStep = (mask: number) => {
      for (let s = 0; s < rules.steps; s++) if (has(mask, s) && !covered.has(s)) return s;
      return -1;
    };
    const times = [entry.t];
    covered.add(firstStep(entry.steps));
    for (let j = i + 1; j < events.length && covered.size < rules.steps; j++) {
      const e = events[j]!;
      if (e.t > end) break;
      const s = firstStep(e.steps);
      if (s < 0) continue;
      covered.add(s);
      times.push(e.t);
    }
    // The longest of its beginnings that no exclusion voids.
    for (let n = times.length; n > 0; n--) {
      if (!voided(times.slice(0, n), events, rules, end)) return times.slice(0, n);
    }
    return undefined;
  }
  const search = rules.exclusions.length > 0;
  let best: number[] | undefined;
  let budget = MAX_WAYS;
  const visit = (times: number[], from: number): void => {
    budget--;
    if ((!best || times.length > best.length) && !voided(times, events, rules, end)) {
      best = [...times];
    }
    const step = times.length;
    if (step === rules.steps || best?.length === rules.steps) return;
    const last = times.at(-1)!;
    for (let j = from; j < events.length && budget > 0; j++) {
      const e = events[j]!;
      if (e.t > end) break;
      if (has(e.steps, step)) {
        visit([...times, e.t], j + 1);
        if (!search || best?.length === rules.steps) return;
      }
      // Strict: the step must be the next event; one at the same millisecond never breaks.
      if (rules.order === 'STRICT' && e.t > last) return;
    }
  };
  visit([entry.t], i + 1);
  return best;
}

/** The person's way through the funnel, or undefined when no entry in the range has a valid one. */
export function bestWay(sorted: readonly PersonEvent[], rules: FunnelRules): Way | undefined {
  let best: Way | undefined;
  const entryMask = rules.order === 'UNORDERED' ? (1 << rules.steps) - 1 : 1;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if ((e.steps & entryMask) === 0 || e.t < rules.from || e.t >= rules.to) continue;
    const times = wayFrom(sorted, i, rules);
    if (!times) continue;
    if (!best || times.length > best.times.length) best = { times, group: e.group };
    if (best.times.length === rules.steps) break;
  }
  return best;
}
