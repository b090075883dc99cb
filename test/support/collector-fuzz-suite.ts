// The collector under fuzzed input, through its public door, once per store set: every batch
// answers without a 5xx, every rejection has a reason naming the field at fault, and every valid
// event is stored once, counted from the event store after the pipeline caught up.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig, throwawayEnv } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { DEMO_ORG_ID } from '../../lib/meta/accounts.repo.ts';
import { createChdbOlap } from '../../lib/olap/chdb.olap.ts';
import { startLoupe, type RunningLoupe } from '../../scripts/runtime.ts';
import { fuzzCases, toBatchBody, type FuzzCase } from './event-fuzzer.ts';

export interface FuzzSuiteOptions {
  /** Settings that point the product at server adapters (none for the embedded defaults). */
  servers: () => Promise<Record<string, string>>;
  seed: number;
  count: number;
}

const BATCH = 500;
/** Batches in flight at once, as several producers would send them. */
const IN_FLIGHT = 8;
const KEY = 'loupe_fuzz_key_0123456789';

interface EventResult {
  index: number;
  status: 'accepted' | 'rejected';
  id?: string;
  reason?: string;
}

export function collectorFuzzSuite({ servers, seed, count }: FuzzSuiteOptions): void {
  let loupe: RunningLoupe | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'loupe-fuzz-'));
    const config = loadConfig({
      ...throwawayEnv({ dataDir, apiKey: KEY, logLevel: 'error' }),
      ...(await servers()),
    });
    loupe = await startLoupe(config, { logger: createLogger('error') });
  });
  afterAll(async () => loupe?.close());

  test(`${count} fuzzed events (seed ${seed}): no 5xx, a reason per rejection, every valid event kept`, async () => {
    const running = loupe!;
    const ingest = `${running.urls.ingest!}/v1/events`;
    const runId = `fz${seed.toString(36)}`;
    const cases = fuzzCases({ seed, count, now: Date.now(), runId });
    const problems: string[] = [];
    const acceptedIds = new Set<string>();
    const name = (i: number, c: FuzzCase) => `seed ${seed} event ${i} (${c.mutation})`;

    async function send(start: number): Promise<void> {
      const batch = cases.slice(start, start + BATCH);
      const res = await fetch(ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: toBatchBody(batch.map((c) => c.event)),
      });
      const body = (await res.json()) as { error?: string; results?: EventResult[] };
      if (res.status !== 200 && res.status !== 422) {
        problems.push(`batch at ${start}: ${res.status} ${body.error ?? ''}`);
        return;
      }
      const results = body.results ?? [];
      if (results.length !== batch.length) problems.push(`batch at ${start}: results missing`);
      for (const r of results) {
        const i = start + r.index;
        const c = batch[r.index]!;
        if (c.valid && r.status !== 'accepted') {
          problems.push(`${name(i, c)}: valid but rejected: ${r.reason}`);
        } else if (c.valid) {
          if (r.id !== c.id) problems.push(`${name(i, c)}: accepted as ${r.id}, sent ${c.id}`);
          acceptedIds.add(r.id!);
        } else if (r.status === 'accepted') {
          problems.push(
            `${name(i, c)}: invalid but accepted: ${JSON.stringify(c.event).slice(0, 200)}`,
          );
        } else if (!r.reason) {
          problems.push(`${name(i, c)}: rejected without a reason`);
        } else if (c.field && !r.reason.includes(c.field)) {
          problems.push(`${name(i, c)}: reason does not name ${c.field}: ${r.reason}`);
        }
      }
    }

    const started = Date.now();
    const starts = Array.from({ length: Math.ceil(cases.length / BATCH) }, (_, i) => i * BATCH);
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let s = starts.shift(); s !== undefined; s = starts.shift()) await send(s);
      }),
    );
    const posted = Date.now();
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);

    const expected = new Map<string, Set<string>>();
    for (const c of cases) {
      if (!c.valid) continue;
      const ids = expected.get(c.accountId!) ?? new Set<string>();
      expected.set(c.accountId!, ids.add(c.id!));
    }
    const expectedIds = new Set([...expected.values()].flatMap((s) => [...s]));

    // The meta store tracks exactly the accounts of accepted events (read through the gateway).
    const res = await fetch(running.urls.gateway!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ query: '{ accounts { id } }' }),
    });
    const accounts = ((await res.json()) as { data?: { accounts: { id: string }[] } }).data;
    expect(new Set(accounts?.accounts.map((a) => a.id))).toEqual(new Set(expected.keys()));

    await running.caughtUp(120_000);
    const caughtUp = Date.now();
    await running.close();
    loupe = undefined;
    // Recounted from the event store itself: what the sink wrote, not what an API says.
    const olap = createChdbOlap({ dataDir: join(dataDir, 'olap') });
    const stored = await olap.query<{ account_id: string; ids: string[]; rows: number }>(
      `SELECT account_id, groupArray(event_id) AS ids, count() AS rows FROM events
       WHERE org_id = {org:String} GROUP BY account_id`,
      { org: DEMO_ORG_ID },
    );
    await olap.close();
    console.info(
      `fuzz seed ${seed}: ${cases.length} events (${expectedIds.size} valid) posted in ${posted - started} ms, ` +
        `pipeline caught up ${caughtUp - posted} ms later`,
    );

    expect(acceptedIds).toEqual(expectedIds);
    for (const { account_id, ids, rows } of stored) {
      expect(rows, `rows of ${account_id}`).toBe(new Set(ids).size);
      expect(new Set(ids), `events of ${account_id}`).toEqual(
        expected.get(account_id) ?? new Set(),
      );
    }
    expect(new Set(stored.map((s) => s.account_id))).toEqual(new Set(expected.keys()));
  }, 300_000);
}
