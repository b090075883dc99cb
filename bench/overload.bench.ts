// Overload: the README's dashboard query through the gateway, on the 90-day demo history. The
// baseline is 4 callers in a closed loop (the rate the gateway serves); then, in the same run,
// callers arriving at 10x that rate whatever the answers, then 1,000 connections in a closed loop
// that honour Retry-After. Prints the rate served, latency percentiles of the answers, refusals
// (503) and how fast they came, client timeouts, and a plain query one second after each load.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateDemoHistory } from '../scripts/demo/demo-data.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { openLoadAgent, runOpenLoad, timedPost, type Outcome } from './support/open-load.ts';
import { benchOptions } from './support/options.ts';
import { dashboardBody, plainBody } from './support/readme-queries.ts';
import { BENCH_CACHE_DIR } from './support/paths.ts';
import { startProduct } from './support/product-child.ts';
import { count, describe, percentiles, progress, seconds, sleep } from './support/stats.ts';

const BENCH = 'overload';
const API_KEY = 'loupe_bench_overload_0000000';

const options = benchOptions(BENCH, {
  baseline: { default: 10, doc: 'seconds of baseline load (4 callers, closed loop)' },
  duration: { default: 20, doc: 'seconds of each overload' },
  factor: { default: 10, doc: 'open-loop arrival rate as a multiple of the baseline rate' },
  connections: { default: 1000, doc: 'connections of the closed-loop overload' },
  timeout: { default: 10, doc: 'seconds a caller waits for an answer before giving up' },
});

const HEADERS = { 'content-type': 'application/json', 'x-api-key': API_KEY };
const dashboard = () => dashboardBody();
const plain = () => plainBody();

interface Run {
  label: string;
  outcomes: Outcome[];
  /** performance.now() when the load began and when it stopped sending. */
  from: number;
  to: number;
  /** CPU the product used meanwhile (until its last answer), in ms. */
  cpuMs: number;
}

/** Closed loop: each caller sends, waits, sends again; after a 503 it waits its Retry-After. */
async function closedLoop(
  url: string,
  callers: number,
  durationMs: number,
): Promise<Run['outcomes']> {
  const agent = openLoadAgent();
  const outcomes: Outcome[] = [];
  const until = performance.now() + durationMs;
  const caller = async () => {
    while (performance.now() < until) {
      const outcome = await timedPost(agent, url, HEADERS, dashboard(), options.timeout * 1000);
      outcomes.push(outcome);
      if (outcome.status === 503) await sleep(Number(outcome.retryAfter ?? 1) * 1000);
    }
  };
  try {
    await Promise.all(Array.from({ length: callers }, caller));
    return outcomes;
  } finally {
    agent.destroy();
  }
}

function summarize(run: Run): { served: number; answered: Outcome[]; refused: Outcome[] } {
  const answered = run.outcomes.filter((o) => o.status === 200);
  const refused = run.outcomes.filter((o) => o.status === 503);
  const other = new Map<string, number>();
  for (const o of run.outcomes) {
    if (o.status !== 200 && o.status !== 503)
      other.set(String(o.status), (other.get(String(o.status)) ?? 0) + 1);
  }
  // Answers per second while the load ran; those finishing after it are in the percentiles only.
  const served = (answered.filter((o) => o.at <= run.to).length * 1000) / (run.to - run.from);
  progress(
    BENCH,
    `${run.label}: ${count(run.outcomes.length)} requests in ${seconds(run.to - run.from)}; ` +
      `product CPU ${(run.cpuMs / run.outcomes.length).toFixed(2)} ms per request; ` +
      `${served.toFixed(1)} answers/s; answers ${describe(percentiles(answered.map((o) => o.ms)))}; ` +
      `${count(refused.length)} refused (503) ${refused.length ? describe(percentiles(refused.map((o) => o.ms))) : ''}` +
      (other.size ? `; other: ${JSON.stringify(Object.fromEntries(other))}` : ''),
  );
  return { served, answered, refused };
}

/** A plain query one second after a load stopped: does the gateway still carry old work? */
async function recovery(url: string, stoppedAt: number): Promise<number> {
  await sleep(Math.max(0, stoppedAt + 1000 - performance.now()));
  const agent = openLoadAgent();
  try {
    const outcome = await timedPost(agent, url, HEADERS, plain(), 300_000);
    return outcome.ms;
  } finally {
    agent.destroy();
  }
}

async function loadDemoHistory(ingest: string): Promise<number> {
  const agent = openLoadAgent();
  let sent = 0;
  try {
    for (const chunk of generateDemoHistory({ now: Date.now() }).batches) {
      for (let i = 0; i < chunk.length; i += 1000) {
        const body = JSON.stringify({ events: chunk.slice(i, i + 1000) });
        for (;;) {
          const r = await timedPost(agent, `${ingest}/v1/events`, HEADERS, body, 60_000);
          if (r.status === 200) break;
          if (r.status !== 503) throw new Error(`demo batch refused: ${r.status}`);
          await sleep(1000);
        }
        sent += Math.min(1000, chunk.length - i);
      }
    }
    return sent;
  } finally {
    agent.destroy();
  }
}

async function main(): Promise<void> {
  await mkdir(BENCH_CACHE_DIR, { recursive: true });
  const dataDir = await mkdtemp(join(BENCH_CACHE_DIR, 'overload-'));
  const product = await startProduct({ dataDir, apiKey: API_KEY });
  try {
    const { gateway } = product;
    const started = performance.now();
    const sent = await loadDemoHistory(product.ingest);
    await product.child.request('caughtUp', 300_000, 310_000);
    progress(
      BENCH,
      `demo history: ${count(sent)} events stored in ${seconds(performance.now() - started)}`,
    );

    const plainAgent = openLoadAgent();
    const plainMs: number[] = [];
    for (let i = 0; i < 20; i++)
      plainMs.push((await timedPost(plainAgent, gateway, HEADERS, plain(), 60_000)).ms);
    plainAgent.destroy();
    const plainP50 = percentiles(plainMs).p50;
    progress(BENCH, `plain query { accounts { id } }, idle: ${describe(percentiles(plainMs))}`);

    /** Runs one load and measures the product's CPU over it. */
    const measure = async (
      label: string,
      durationMs: number,
      run: () => Promise<Outcome[]>,
    ): Promise<Run> => {
      const cpu = (await product.stats()).cpuMs;
      const from = performance.now();
      const outcomes = await run();
      const cpuMs = (await product.stats()).cpuMs - cpu;
      return { label, outcomes, from, to: from + durationMs, cpuMs };
    };
    const lastAnswer = (outcomes: Outcome[]) => Math.max(...outcomes.map((o) => o.at));

    await closedLoop(gateway, 4, 2_000); // warm-up
    const base = summarize(
      await measure('baseline, 4 callers', options.baseline * 1000, () =>
        closedLoop(gateway, 4, options.baseline * 1000),
      ),
    );

    const rate = Math.ceil(options.factor * base.served);
    const openRun = await measure(
      `open loop at ${rate}/s (${options.factor}x)`,
      options.duration * 1000,
      () =>
        runOpenLoad({
          url: gateway,
          headers: HEADERS,
          body: dashboard,
          ratePerSecond: rate,
          durationMs: options.duration * 1000,
          timeoutMs: options.timeout * 1000,
          maxRequests: rate * options.duration,
        }),
    );
    const openOutcomes = openRun.outcomes;
    const open = summarize(openRun);
    const openRecovery = await recovery(gateway, lastAnswer(openOutcomes));
    progress(
      BENCH,
      `plain query 1 s after the open loop's last answer: ${openRecovery.toFixed(1)} ms`,
    );

    const closedRun = await measure(
      `${options.connections} connections`,
      options.duration * 1000,
      () => closedLoop(gateway, options.connections, options.duration * 1000),
    );
    const closedOutcomes = closedRun.outcomes;
    const closed = summarize(closedRun);
    const closedRecovery = await recovery(gateway, lastAnswer(closedOutcomes));
    progress(
      BENCH,
      `plain query 1 s after the last answer to ${options.connections} connections: ${closedRecovery.toFixed(1)} ms`,
    );

    const baseRate = { name: 'baseline answers/s', value: base.served };
    const p = (o: Outcome[]) => percentiles(o.map((x) => x.ms));
    const baseP = p(base.answered);
    const figures: Figure[] = [];
    for (const [label, run, outcomes] of [
      [`open loop ${options.factor}x`, open, openOutcomes],
      [`${options.connections} conns`, closed, closedOutcomes],
    ] as const) {
      const answers = p(run.answered);
      figures.push(
        {
          bench: BENCH,
          name: `${label}: answers/s`,
          value: run.served,
          unit: '/s',
          baseline: baseRate,
        },
        {
          bench: BENCH,
          name: `${label}: answer p50`,
          value: answers.p50,
          unit: 'ms',
          baseline: { name: 'baseline p50', value: baseP.p50 },
        },
        {
          bench: BENCH,
          name: `${label}: answer p99`,
          value: answers.p99,
          unit: 'ms',
          baseline: { name: 'baseline p99', value: baseP.p99 },
        },
        {
          bench: BENCH,
          name: `${label}: refused (503)`,
          value: run.refused.length,
          unit: `of ${outcomes.length}`,
        },
        { bench: BENCH, name: `${label}: refusal p99`, value: p(run.refused).p99, unit: 'ms' },
        {
          bench: BENCH,
          name: `${label}: timed out`,
          value: outcomes.filter((o) => o.status === 'timeout').length,
          unit: `of ${outcomes.length}`,
        },
      );
    }
    figures.push(
      { bench: BENCH, name: 'baseline (4 callers): answers/s', value: base.served, unit: '/s' },
      {
        bench: BENCH,
        name: 'plain query 1 s after the open loop',
        value: openRecovery,
        unit: 'ms',
        baseline: { name: 'idle p50', value: plainP50 },
      },
      {
        bench: BENCH,
        name: `plain query 1 s after ${options.connections} conns`,
        value: closedRecovery,
        unit: 'ms',
        baseline: { name: 'idle p50', value: plainP50 },
      },
    );
    publishFigures(figures);
  } finally {
    await product.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
