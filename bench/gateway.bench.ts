// Loupe's gateway against plain @apollo/gateway (its default data sources and fetcher), in one run:
// the same subgraphs in the same process, the same dashboard query (30 days to now × every metric
// and the engagement rate, by Los Angeles day, over the dashboard benchmark's 10M events), the
// same closed-loop clients, the two gateways taking turns so that drift in the machine falls on
// both. No response cache on either: what a repeated range saves lives in the metrics subgraph
// (sealed reads), below both gateways. Loupe's gateway does more per request (key verification,
// demand control, metrics); the plain one forwards one fixed signed caller.
import { performance } from 'node:perf_hooks';
import { dashboardDataDir, prepareDashboardData } from './support/dashboard-prepare.ts';
import { DASHBOARD_QUERY } from './support/dashboard-query.ts';
import { publishFigures, type Figure } from './support/figures.ts';
import { openLoadAgent, timedPost, type Outcome } from './support/open-load.ts';
import { benchOptions } from './support/options.ts';
import { startProduct, type RunningProduct } from './support/product-child.ts';
import { count, describe, percentiles, progress, type Percentiles } from './support/stats.ts';

const BENCH = 'gateway';
const API_KEY = 'loupe_bench_dashboard_000000';
const ACCOUNT = 'acct-000';
const DAY_MS = 24 * 3_600_000;
const TARGET_RATIO = 1.5;
const SECRET = 'the-gateway-benchmark-secret-0123456789';

const options = benchOptions(BENCH, {
  events: { default: 10_000_000, doc: 'events stored before measuring (the dashboard data)' },
  accounts: { default: 100, doc: 'accounts the stored events belong to' },
  days: { default: 90, doc: 'days of history the stored events cover' },
  clients: {
    default: 8,
    doc: 'closed-loop clients; 8 is what Loupe admits at once (LOUPE_GATEWAY_MAX_IN_FLIGHT)',
  },
  duration: { default: 10, doc: 'seconds of load per turn' },
  turns: { default: 3, doc: 'turns each gateway takes, alternating' },
  warmup: { default: 100, doc: 'requests sent to each gateway first and not measured' },
});

function body(): string {
  const to = Date.now();
  return JSON.stringify({
    query: DASHBOARD_QUERY,
    variables: {
      id: ACCOUNT,
      from: new Date(to - 30 * DAY_MS).toISOString(),
      to: new Date(to).toISOString(),
    },
  });
}

interface Turn {
  answers: Outcome[];
  failures: number;
  ms: number;
}

async function turn(url: string, clients: number, durationMs: number): Promise<Turn> {
  const agent = openLoadAgent();
  const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const answers: Outcome[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + durationMs;
  const client = async () => {
    while (performance.now() < until) {
      const outcome = await timedPost(agent, url, headers, body(), 10_000);
      if (outcome.status === 200 && outcome.code === undefined) answers.push(outcome);
      else failures++;
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, client));
  } finally {
    agent.destroy();
  }
  return { answers, failures, ms: performance.now() - started };
}

async function warm(url: string): Promise<void> {
  const first = await turn(url, 1, 1);
  if (first.answers.length === 0) throw new Error(`${url} does not answer the dashboard query`);
  const agent = openLoadAgent();
  const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  for (let i = 0; i < options.warmup; i++) await timedPost(agent, url, headers, body(), 10_000);
  agent.destroy();
}

interface Result {
  perSecond: number;
  latency: Percentiles;
  failures: number;
}

function combine(turns: Turn[]): Result {
  const answers = turns.flatMap((t) => t.answers);
  const ms = turns.reduce((a, t) => a + t.ms, 0);
  return {
    perSecond: (answers.length * 1000) / ms,
    latency: percentiles(answers.map((a) => a.ms)),
    failures: turns.reduce((a, t) => a + t.failures, 0),
  };
}

async function main(): Promise<void> {
  const dataDir = dashboardDataDir(options);
  progress(BENCH, `data directory ${dataDir} (kept between runs; the dashboard bench's)`);
  await prepareDashboardData(dataDir, {
    ...options,
    queries: 1,
    warmup: 0,
    apiKey: API_KEY,
    account: ACCOUNT,
  });
  let product: RunningProduct | undefined;
  try {
    product = await startProduct({
      dataDir,
      apiKey: API_KEY,
      env: { LOUPE_INTERNAL_SECRET: SECRET },
      plainGateway: true,
    });
    const gateways = { plain: product.plainGateway, loupe: product.gateway };
    progress(BENCH, `Loupe's gateway ${gateways.loupe}; plain @apollo/gateway ${gateways.plain}`);
    for (const [name, url] of Object.entries(gateways)) {
      await warm(url);
      progress(BENCH, `${name}: warmed with ${options.warmup} requests`);
    }
    const turns: Record<keyof typeof gateways, Turn[]> = { plain: [], loupe: [] };
    for (let i = 0; i < options.turns; i++) {
      for (const name of ['plain', 'loupe'] as const) {
        const t = await turn(gateways[name], options.clients, options.duration * 1000);
        turns[name].push(t);
        progress(
          BENCH,
          `turn ${i + 1}/${options.turns}, ${name}: ${count(t.answers.length)} answers, ` +
            `${((t.answers.length * 1000) / t.ms).toFixed(1)}/s; ${describe(percentiles(t.answers.map((a) => a.ms)))}` +
            (t.failures ? `; ${t.failures} not answered` : ''),
        );
      }
    }
    const plain = combine(turns.plain);
    const loupe = combine(turns.loupe);
    const cpu = await product.stats();
    progress(
      BENCH,
      `Loupe ${loupe.perSecond.toFixed(1)}/s p95 ${loupe.latency.p95.toFixed(1)} ms against plain ` +
        `${plain.perSecond.toFixed(1)}/s p95 ${plain.latency.p95.toFixed(1)} ms: ` +
        `${(loupe.perSecond / plain.perSecond).toFixed(2)}x the rate; product CPU ${count(cpu.cpuMs)} ms in all`,
    );
    const figures: Figure[] = [
      {
        bench: BENCH,
        name: `Loupe gateway, ${options.clients} clients: answers/s`,
        value: loupe.perSecond,
        unit: 'answers/s',
        target: { op: '>=', value: plain.perSecond * TARGET_RATIO },
        baseline: { name: 'plain @apollo/gateway', value: plain.perSecond },
      },
      {
        bench: BENCH,
        name: `Loupe gateway, ${options.clients} clients: p95`,
        value: loupe.latency.p95,
        unit: 'ms',
        target: { op: '<=', value: plain.latency.p95 },
        baseline: { name: 'plain @apollo/gateway', value: plain.latency.p95 },
      },
      {
        bench: BENCH,
        name: `Loupe gateway, ${options.clients} clients: p50`,
        value: loupe.latency.p50,
        unit: 'ms',
        baseline: { name: 'plain @apollo/gateway', value: plain.latency.p50 },
      },
      {
        bench: BENCH,
        name: 'not answered (Loupe / plain)',
        value: loupe.failures,
        unit: 'requests',
        baseline: { name: 'plain @apollo/gateway', value: plain.failures },
      },
    ];
    publishFigures(figures);
  } finally {
    await product?.stop();
  }
}

await main();
