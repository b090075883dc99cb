// Throughput and publish-to-handler latency of the embedded bus, beside a baseline that hands
// the same messages straight to the handler, so a noisy machine shows as a ratio, not a false figure.
import { performance } from 'node:perf_hooks';
import type { BusBatch } from '../lib/bus/bus.port.ts';
import { createMemoryBus } from '../lib/bus/memory.bus.ts';

const TOTAL = 1_000_000;
const PUBLISH_BATCH = 500;
const ACCOUNTS = 1000;
const payload = JSON.stringify({ type: 'engagement', metrics: { likes: 1 }, pad: 'x'.repeat(240) });

function messages(count: number, from: number): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `account-${(from + i) % ACCOUNTS}`,
    value: payload,
  }));
}

/** The bus taken away: the same messages handed straight to the handler, 500 at a time. */
async function baseline(): Promise<number> {
  let seen = 0;
  const handleBatch = async (batch: BusBatch): Promise<void> => {
    seen += batch.messages.length;
  };
  const started = performance.now();
  for (let i = 0; i < TOTAL; i += PUBLISH_BATCH) {
    const batch = messages(PUBLISH_BATCH, i).map((m, j) => ({
      topic: 'events',
      partition: 0,
      offset: i + j,
      ...m,
    }));
    await handleBatch({ topic: 'events', partition: 0, messages: batch });
  }
  if (seen !== TOTAL) throw new Error('baseline lost messages');
  return TOTAL / ((performance.now() - started) / 1000);
}

async function throughput(groups: number): Promise<number> {
  const bus = createMemoryBus();
  let seen = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const handleBatch = async (batch: BusBatch): Promise<void> => {
    seen += batch.messages.length;
    if (seen === TOTAL * groups) resolveDone();
  };
  for (let g = 0; g < groups; g++) {
    await bus.consume({ topic: 'events', group: `g${g}`, handleBatch, maxBatchSize: 500 });
  }
  const started = performance.now();
  for (let i = 0; i < TOTAL; i += PUBLISH_BATCH) {
    await bus.publish('events', messages(PUBLISH_BATCH, i));
    // Yield like an HTTP server would between requests, so consumers interleave with publishers.
    if ((i / PUBLISH_BATCH) % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  const rate = TOTAL / ((performance.now() - started) / 1000);
  await bus.close();
  return rate;
}

/** Publishes `perMs` messages per timer tick for `seconds`; returns rate and latency percentiles. */
async function latency(
  perMs: number,
  seconds: number,
): Promise<{ rate: number; p50: number; p99: number }> {
  const bus = createMemoryBus();
  const samples: number[] = [];
  await bus.consume({
    topic: 'events',
    group: 'live',
    handleBatch: async (batch) => {
      const now = performance.now();
      for (const m of batch.messages) samples.push(now - Number(m.value));
    },
  });
  const started = performance.now();
  const until = started + seconds * 1000;
  let n = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() > until) {
        clearInterval(timer);
        resolve();
        return;
      }
      const at = String(performance.now());
      const batch = Array.from({ length: perMs }, () => ({
        key: `account-${n++ % ACCOUNTS}`,
        value: at,
      }));
      void bus.publish('events', batch);
    }, 1);
  });
  const rate = n / ((performance.now() - started) / 1000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await bus.close();
  samples.sort((a, b) => a - b);
  const pick = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { rate, p50: pick(0.5), p99: pick(0.99) };
}

// A first unmeasured round lets the JIT settle before any figure is taken.
await throughput(1);
await baseline();
const base = await baseline();
const one = await throughput(1);
const two = await throughput(2);
const lat = await latency(150, 3);
const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} msg/s`;
console.log(`baseline (handler called directly, batches of 500): ${fmt(base)}`);
console.log(`bus, 1 group, batches of 500: ${fmt(one)} (${(one / base).toFixed(2)}x baseline)`);
console.log(`bus, 2 groups, batches of 500: ${fmt(two)} published, each delivered to both groups`);
console.log(
  `publish -> handleBatch at ${fmt(lat.rate)}: p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`,
);
