// The bus contract against a real Kafka (LOUPE_KAFKA_BROKERS, else the local default that
// `npm run services -- up` starts). Every topic and group carries a per-run prefix.
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { lossySockets } from '../../test/support/lossy-sockets.ts';
import { loadConfig } from '../config.ts';
import type { BusMessage } from './bus.port.ts';
import { busContract } from './bus.contract.ts';
import { createKafkaBus } from './kafka.bus.ts';

const brokers = loadConfig().servers.kafkaBrokers ?? ['127.0.0.1:9092'];
const prefix = `loupe-test-${randomBytes(4).toString('hex')}.`;

busContract('kafka', async () => createKafkaBus({ brokers, prefix, retryMs: 20 }));

describe('kafka bus', () => {
  test('rejects a publish to an unreachable cluster with a reason, within its timeout', async () => {
    const bus = createKafkaBus({ brokers: ['127.0.0.1:1'], prefix, publishTimeoutMs: 3000 });
    const started = Date.now();
    await expect(bus.publish('nowhere', [{ key: 'k', value: 'v' }])).rejects.toThrow(/^Kafka: /);
    expect(Date.now() - started).toBeLessThan(10_000);
    await bus.close();
  });

  test('stores a publish made after one whose reply was lost, even of the same size', async () => {
    // The broker stores the first publish but its reply never arrives, so the publish fails; a
    // producer that reused the failed send's sequence numbers would see the next send of the
    // same size taken for a duplicate of it: acknowledged, and never stored.
    const sockets = lossySockets();
    const bus = createKafkaBus({
      brokers,
      prefix,
      publishTimeoutMs: 60_000,
      socketFactory: sockets.factory,
    });
    const topic = `lost-reply-${randomBytes(3).toString('hex')}`;
    const batch = (name: string) =>
      Array.from({ length: 50 }, (_, i) => ({ key: 'one-account', value: `${name}:${i}` }));
    await bus.publish(topic, batch('warm-up'));

    sockets.losing = true;
    await expect(bus.publish(topic, batch('reply-lost'))).rejects.toThrow(/^Kafka: /);
    expect(sockets.lost).toBeGreaterThan(0);
    sockets.losing = false;
    await bus.publish(topic, batch('after'));

    const seen: BusMessage[] = [];
    const consumer = await bus.consume({
      topic,
      group: `lost-reply-${randomBytes(3).toString('hex')}`,
      handleBatch: async (b) => void seen.push(...b.messages),
    });
    const ends = await bus.endOffsets(topic);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    for (let waited = 0; seen.length < total && waited < 20_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await consumer.close();
    await bus.close();
    const values = seen.map((m) => m.value);
    expect(values.filter((v) => v.startsWith('after:'))).toEqual(
      batch('after').map((m) => m.value),
    );
    expect(values.filter((v) => v.startsWith('warm-up:'))).toHaveLength(50);
  }, 90_000);

  test('goes on consuming after the group evicted it for blocking past the session timeout', async () => {
    // A handler that holds the event loop longer than the session timeout (10 s) silences the
    // member's heartbeats, so the group evicts it and its commit is refused. The member must
    // rejoin and receive what follows; one that gave up would sit idle in a live process.
    const bus = createKafkaBus({ brokers, prefix, retryMs: 20 });
    const topic = `evicted-${randomBytes(3).toString('hex')}`;
    await bus.publish(topic, [{ key: 'k', value: 'before' }]);
    const seen: string[] = [];
    let blocked = false;
    const consumer = await bus.consume({
      topic,
      group: `evicted-${randomBytes(3).toString('hex')}`,
      handleBatch: async (b) => {
        if (!blocked) {
          blocked = true;
          const until = Date.now() + 12_000;
          while (Date.now() < until); // deliberately synchronous: no timer or socket runs
        }
        seen.push(...b.messages.map((m) => m.value));
      },
    });
    for (let waited = 0; !blocked && waited < 20_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await bus.publish(topic, [{ key: 'k', value: 'after' }]);
    for (let waited = 0; !seen.includes('after') && waited < 60_000; waited += 200) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await consumer.close();
    await bus.close();
    expect(seen).toContain('before');
    expect(seen).toContain('after');
  }, 120_000);
});
