// One person's way through a funnel, from their events in time order: the furthest step any
// entry reaches under the order mode (schema/subgraphs/product.graphql FunnelOrder), and the time
// of each step on that way. Each entry's way takes the earliest events that fit; of all entries,
// the one reaching the furthest wins, the earliest of those on a tie.

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
 * that completes the most steps.
 */
export function sortEvents(events: PersonEvent[]): PersonEvent[] {
  const lowest = (e: PersonEvent) => (e.steps === 0 ? 32 : 31 - Math.clz32(e.steps & -e.steps));
  return events.sort((a, b) => a.t - b.t || lowest(a) - lowest(b));
}

/** The way from the entry at index `i`: step times, or undefined when an exclusion voids it. */
function wayFrom(
  events: readonly PersonEvent[],
  i: number,
  rules: FunnelRules,
): number[] | undefined {
  const entry = events[i]!;
  const end = entry.t + rules.windowMs;
  const times = [entry.t];
  if (rules.order === 'UNORDERED') {
    // Each step once, each event for one step: the first event to cover a step not yet covered.
    const covered = new Set<number>();
    const firstStep = (mask: number) => {
      for (let s = 0; s < rules.steps; s++) if (has(mask, s) && !covered.has(s)) return s;
      return -1;
    };
    covered.add(firstStep(entry.steps));
    for (let j = i + 1; j < events.length && covered.size < rules.steps; j++) {
      const e = events[j]!;
      if (e.t > end) break;
      const s = firstStep(e.steps);
      if (s < 0) continue;
      covered.add(s);
      times.push(e.t);
    }
  } else {
    let j = i + 1;
    for (let step = 1; step < rules.steps; step++) {
      let found = -1;
      for (; j < events.length; j++) {
        const e = events[j]!;
        if (e.t > end) break;
        if (has(e.steps, step)) {
          found = j;
          break;
        }
        // Strict: the next event must be the step, but one at the same millisecond never breaks.
        if (rules.order === 'STRICT' && e.t > times.at(-1)!) break;
      }
      if (found < 0) break;
      times.push(events[found]!.t);
      j = found + 1;
    }
  }
  for (const x of rules.exclusions) {
    if (times.length <= x.fromStep) continue;
    const after = times[x.fromStep]!;
    const before = times.length > x.toStep ? times[x.toStep]! : end;
    const voided = events.some(
      (e) =>
        has(e.exclusions, x.bit) &&
        e.t > after &&
        (times.length > x.toStep ? e.t < before : e.t <= before),
    );
    if (voided) return undefined;
  }
  return times;
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
