// The broker-kill scenario, run by two guarantee tests: the collector acknowledges a batch only
// once Kafka has it. The scenario runs its own Kafka cluster on spare ports, kills a node
// (SIGKILL) in the middle of an ingest run, optionally starts it again, resends every batch that
// was not acknowledged (as a producer must), and finds each event counted exactly once.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig, SUBGRAPHS, throwawayEnv } from '../../lib/config.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import { kafkaCluster, type KafkaCluster } from '../../scripts/services/kafka.ts';
import { startLoupe, type RunningLoupe } from '../../scripts/runtime.ts';
import { freePorts } from './free-ports.ts';
import { postGraphQL } from './graphql-http.ts';

export interface BrokerKillOptions {
  /** Nodes in the cluster; node 1 is the one killed. */
  nodes: number;
  /** Start the killed node again after this long; never when unset. */
  restartAfterMs?: number;
}

export function brokerKillScenario({ nodes, restartAfterMs }: BrokerKillOptions): void {
  const KEY = 'loupe_broker_kill_key_0123456789';
  const BATCHES = 80;
  const PER_BATCH = 250;

  let dir: string;
  let cluster: KafkaCluster;
  let loupe: RunningLoupe;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'loupe-broker-kill-'));
    cluster = kafkaCluster({
      dir: join(dir, 'kafka'),
      basePort: await freePorts(2 * nodes),
      nodes,
      partitions: 4,
      heapMb: 384,
    });
    await cluster.start();
    await cluster.ready(90_000);
    const config = loadConfig({
      ...throwawayEnv({ dataDir: join(dir, 'data'), apiKey: KEY, logLevel: 'silent' }),
      LOUPE_KAFKA_BROKERS: cluster.brokers.join(','),
    });
    loupe = await startLoupe(config, {
      services: ['ingest', 'olap-sink', ...SUBGRAPHS, 'gateway'],
    });
  }, 180_000);

  afterAll(async () => {
    await loupe?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const what =
    restartAfterMs === undefined ? 'a broker lost for good' : 'a broker crash and restart';
  test(`${nodes} node${nodes === 1 ? '' : 's'}: every acknowledged event is counted exactly once across ${what}`, async () => {
    const accountId = `acct-${randomUUID()}`;
    const at = new Date(Date.now() - 3_600_000).toISOString();
    const batches: EventInput[][] = Array.from({ length: BATCHES }, (_, b) =>
      Array.from({ length: PER_BATCH }, (_, i) => ({
        id: randomUUID(),
        type: 'engagement' as const,
        platform: 'instagram' as const,
        accountId,
        metric: 'likes' as const,
        mode: 'delta' as const,
        value: 1 + ((b * PER_BATCH + i) % 7),
        occurredAt: at,
      })),
    );
    const send = async (events: EventInput[]): Promise<number> => {
      try {
        const res = await fetch(`${loupe.urls.ingest!}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': KEY },
          body: JSON.stringify({ events }),
        });
        await res.arrayBuffer();
        return res.status;
      } catch {
        return 0;
      }
    };

    // Two senders in parallel; node 1 dies a third of the way in.
    const statuses = new Array<number>(BATCHES).fill(-1);
    let next = 0;
    const sender = async () => {
      while (next < BATCHES) {
        const b = next++;
        statuses[b] = await send(batches[b]!);
      }
    };
    const senders = [sender(), sender()];
    while (next < BATCHES / 3) await new Promise((r) => setTimeout(r, 5));
    const inFlightAtKill = next;
    cluster.kill(1);
    if (restartAfterMs !== undefined) {
      await new Promise((r) => setTimeout(r, restartAfterMs));
      cluster.startNode(1);
    }
    await Promise.all(senders);
    if (restartAfterMs !== undefined) await cluster.ready(90_000);

    const acknowledged = statuses.filter((s) => s === 200).length;
    const refused = statuses.map((s, b) => (s === 200 ? -1 : b)).filter((b) => b >= 0);
    // Refusals are 503s that say to retry, never a half-accepted batch.
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(inFlightAtKill).toBeLessThan(BATCHES);

    // A producer resends what was not acknowledged; the sink keeps each event id once.
    for (const b of refused) {
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
        status = await send(batches[b]!);
        if (status !== 200) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(status, `batch ${b} after the broker returned`).toBe(200);
    }
    await loupe.caughtUp(120_000);

    const expected = batches
      .flat()
      .reduce((sum, e) => sum + (e.type === 'engagement' ? e.value : 0), 0);
    const counted = async () => {
      const reply = await postGraphQL<{
        account: { metrics: { series: { metric: string; total: number }[] } };
      }>(
        loupe.urls.gateway!,
        KEY,
        `query ($id: ID!, $from: DateTime!, $to: DateTime!) {
          account(id: $id) {
            metrics(range: { from: $from, to: $to }, granularity: HOUR, metrics: [LIKES]) {
              series { metric total }
            }
          }
        }`,
        {
          id: accountId,
          from: new Date(Date.now() - 2 * 3_600_000).toISOString(),
          to: new Date(Date.now() + 3_600_000).toISOString(),
        },
      );
      expect(reply.errors).toBeUndefined();
      return reply.data?.account.metrics.series[0]?.total ?? 0;
    };
    // Right after a leader moves, the new leader's high watermark can trail what it has already
    // acknowledged, so "caught up" may come a moment early: wait for the count to arrive.
    let total = await counted();
    for (let waited = 0; total < expected && waited < 30_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      total = await counted();
    }
    expect(total, `${expected - total} likes missing after 30 s`).toBe(expected);
    // And nothing arrives twice later.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await counted()).toBe(expected);
    console.log(
      `broker kill (${nodes} nodes): ${acknowledged}/${BATCHES} batches acknowledged on first try, ` +
        `${refused.length} refused and resent; ${BATCHES * PER_BATCH} events counted once`,
    );
  }, 300_000);
}
