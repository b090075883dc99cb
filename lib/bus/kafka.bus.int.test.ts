// The bus contract against a real Kafka (LOUPE_KAFKA_BROKERS, else the local default that
// `npm run services -- up` starts). Every topic and group carries a per-run prefix.
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config.ts';
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
});
