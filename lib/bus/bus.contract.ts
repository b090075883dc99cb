// One suite for every bus adapter: the in-process log here, Kafka when a broker is configured.
// Each test uses its own topic and groups, so a shared broker keeps no state between them.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Bus, BusBatch, BusConsumer, BusMessage, ConsumerOptions } from './bus.port.ts';

/** Long enough for a broker's group rebalance; the memory bus finishes in milliseconds. */
const WAIT_MS = 30_000;

export function busContract(name: string, create: () => Promise<Bus>): void {
  describe(`bus contract: ${name}`, () => {
    let bus: Bus;
    const open: BusConsumer[] = [];

    beforeAll(async () => {
      bus = await create();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close()));
    });
    afterAll(() => bus.close());

    const consume = async (options: ConsumerOptions): Promise<BusConsumer> => {
      const consumer = await bus.consume(options);
      open.push(consumer);
      return consumer;
    };

    test('keeps the order of each key within its partition', async () => {
      const topic = unique('topic');
      const keys = Array.from({ length: 20 }, (_, k) => `account-${k}`);
      for (let round = 0; round < 10; round++) {
        await bus.publish(
          topic,
          Array.from({ length: 100 }, (_, i) => {
            const key = keys[i % keys.length]!;
            return { key, value: `${key}:${round * 100 + i}` };
          }),
        );
      }
      const sink = collector();
      await consume({ topic, group: unique('group'), handleBatch: sink.handleBatch });
      await waitFor(() => sink.messages.length >= 1000, 'all messages');

      expect(sink.messages).toHaveLength(1000);
      for (const key of keys) {
        const own = sink.messages.filter((m) => m.key === key);
        expect(own).toHaveLength(50);
        expect(new Set(own.map((m) => m.partition)).size).toBe(1);
        const sequence = own.map((m) => Number(m.value.split(':')[1]));
        expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
        const offsets = own.map((m) => m.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
    });

    test('takes publishes of several MiB for one key at once, and keeps their order', async () => {
      const topic = unique('topic');
      const filler = 'x'.repeat(4096);
      // Four concurrent publishes of 2 MiB each, all on one partition: more than a broker takes
      // in one request, however the bus merges them.
      await Promise.all(
        Array.from({ length: 4 }, (_, p) =>
          bus.publish(
            topic,
            Array.from({ length: 500 }, (_, i) => ({ key: 'hot', value: `${p}:${i}:${filler}` })),
          ),
        ),
      );
      const sink = collector();
      await consume({ topic, group: unique('group'), handleBatch: sink.handleBatch });
      await waitFor(() => sink.messages.length >= 2000, 'all messages');
      expect(sink.messages).toHaveLength(2000);
      for (let p = 0; p < 4; p++) {
        const own = sink.messages.filter((m) => m.value.startsWith(`${p}:`));
        expect(own.map((m) => Number(m.value.split(':')[1]))).toEqual([...Array(500).keys()]);
      }
    });

    test('delivers every message to every group', async () => {
      const topic = unique('topic');
      const a = collector();
      const b = collector();
      await consume({ topic, group: unique('group-a'), handleBatch: a.handleBatch });
      await consume({ topic, group: unique('group-b'), handleBatch: b.handleBatch });
      await bus.publish(topic, numbered(1000, 37));

      await waitFor(() => a.messages.length >= 1000 && b.messages.length >= 1000, 'both groups');
      for (const sink of [a, b]) {
        expect(sink.messages).toHaveLength(1000);
        expect(new Set(sink.values())).toEqual(new Set(numbered(1000, 37).map((m) => m.value)));
      }
    });

    test('splits partitions between consumers of one group and rebalances when one leaves', async () => {
      const topic = unique('topic');
      const group = unique('group');
      const a = collector();
      const b = collector();
      await consume({ topic, group, handleBatch: a.handleBatch });
      const leaving = await consume({ topic, group, handleBatch: b.handleBatch });
      await bus.publish(topic, numbered(2000, 200));

      await waitFor(() => a.messages.length + b.messages.length >= 2000, 'all messages');
      const together = [...a.values(), ...b.values()];
      expect(together).toHaveLength(2000);
      expect(new Set(together).size).toBe(2000);
      expect(a.messages.length).toBeGreaterThan(0);
      expect(b.messages.length).toBeGreaterThan(0);
      const partitionsOfA = new Set(a.messages.map((m) => m.partition));
      expect(b.messages.some((m) => partitionsOfA.has(m.partition))).toBe(false);

      await leaving.close();
      const before = a.messages.length;
      const later = numbered(1000, 200, 'later');
      await bus.publish(topic, later);
      await waitFor(() => a.messages.length - before >= 1000, 'the leaver’s partitions');
      expect(new Set(a.values().slice(before))).toEqual(new Set(later.map((m) => m.value)));
    });

    test('redelivers a rejected batch and commits only after it succeeds', async () => {
      const topic = unique('topic');
      const group = unique('group');
      const deliveries: BusBatch[] = [];
      let failuresLeft = 2;
      const messages = Array.from({ length: 10 }, (_, i) => ({ key: 'one-key', value: `v${i}` }));
      await bus.publish(topic, messages);
      await consume({
        topic,
        group,
        handleBatch: async (batch) => {
          deliveries.push({ ...batch, messages: [...batch.messages] });
          if (failuresLeft > 0) {
            failuresLeft--;
            throw new Error('sink unavailable');
          }
        },
      });

      await waitFor(() => deliveries.length >= 1, 'a first delivery');
      const first = deliveries[0]!;
      const firstOffset = first.messages[0]!.offset;
      const whileFailing = await bus.committedOffsets(topic, group);
      expect(whileFailing.get(first.partition) ?? firstOffset).toBe(firstOffset);

      const end = (await bus.endOffsets(topic)).get(first.partition)!;
      await waitFor(
        async () => (await bus.committedOffsets(topic, group)).get(first.partition) === end,
        'the commit after success',
      );
      expect(deliveries.length).toBeGreaterThanOrEqual(3);
      for (const retry of deliveries.slice(1, 3)) {
        expect(retry.partition).toBe(first.partition);
        const common = Math.min(retry.messages.length, first.messages.length);
        expect(retry.messages.slice(0, common)).toEqual(first.messages.slice(0, common));
      }
      const delivered = new Set(deliveries.slice(2).flatMap((d) => d.messages.map((m) => m.value)));
      expect(delivered).toEqual(new Set(messages.map((m) => m.value)));
    });

    test('reports committed and end offsets', async () => {
      const topic = unique('topic');
      const group = unique('group');
      await bus.publish(topic, numbered(500, 50));
      const end = await bus.endOffsets(topic);
      expect(sum(end)).toBe(500);
      expect((await bus.committedOffsets(topic, group)).size).toBe(0);

      const sink = collector();
      await consume({ topic, group, handleBatch: sink.handleBatch, maxBatchSize: 7 });
      await waitFor(() => sink.messages.length >= 500, 'all messages');
      await waitFor(async () => {
        const committed = await bus.committedOffsets(topic, group);
        return [...end].every(([p, offset]) => offset === 0 || committed.get(p) === offset);
      }, 'commits up to the end');
      for (const batch of sink.batches) {
        expect(batch.messages.length).toBeLessThanOrEqual(7);
        expect(batch.messages.every((m) => m.partition === batch.partition)).toBe(true);
      }
    });

    test('resumes a reopened group from its committed offset', async () => {
      const topic = unique('topic');
      const group = unique('group');
      await bus.publish(topic, numbered(300, 30));
      const first = collector();
      const consumer = await consume({ topic, group, handleBatch: first.handleBatch });
      await waitFor(() => first.messages.length >= 300, 'the first 300');
      const end = await bus.endOffsets(topic);
      await waitFor(async () => {
        const committed = await bus.committedOffsets(topic, group);
        return [...end].every(([p, offset]) => offset === 0 || committed.get(p) === offset);
      }, 'the first commits');
      await consumer.close();

      const later = numbered(200, 30, 'later');
      await bus.publish(topic, later);
      const second = collector();
      await consume({ topic, group, handleBatch: second.handleBatch });
      await waitFor(() => second.messages.length >= 200, 'the later 200');
      expect(new Set(second.values())).toEqual(new Set(later.map((m) => m.value)));
      for (const m of second.messages)
        expect(m.offset).toBeGreaterThanOrEqual(end.get(m.partition)!);
    });

    test('starts a new group after the existing messages when fromBeginning is false', async () => {
      const topic = unique('topic');
      await bus.publish(topic, numbered(100, 10, 'old'));
      const sink = collector();
      await consume({
        topic,
        group: unique('group'),
        handleBatch: sink.handleBatch,
        fromBeginning: false,
      });
      const fresh = numbered(100, 10, 'new');
      await bus.publish(topic, fresh);
      await waitFor(() => sink.messages.length >= 100, 'the new messages');
      expect(new Set(sink.values())).toEqual(new Set(fresh.map((m) => m.value)));
    });

    test('starts a new group at the given offsets, and an existing group where it left off', async () => {
      const topic = unique('topic');
      await bus.publish(topic, numbered(400, 40));
      const end = await bus.endOffsets(topic);
      const startAt = new Map([...end].map(([p, offset]) => [p, Math.floor(offset / 2)]));
      const group = unique('group');
      const sink = collector();
      const first = await consume({ topic, group, handleBatch: sink.handleBatch, startAt });
      const expected = [...end].reduce((n, [p, offset]) => n + offset - startAt.get(p)!, 0);
      await waitFor(() => sink.messages.length >= expected, 'the second halves');
      expect(sink.messages).toHaveLength(expected);
      for (const m of sink.messages)
        expect(m.offset).toBeGreaterThanOrEqual(startAt.get(m.partition)!);
      await waitFor(async () => {
        const committed = await bus.committedOffsets(topic, group);
        return [...end].every(([p, offset]) => offset === 0 || committed.get(p) === offset);
      }, 'the commits');
      await first.close();

      // Committed offsets win over startAt: nothing is read twice.
      const again = collector();
      await consume({ topic, group, handleBatch: again.handleBatch, startAt: new Map([[0, 0]]) });
      await bus.publish(topic, numbered(40, 40, 'later'));
      await waitFor(() => again.messages.length >= 40, 'the later messages');
      expect(new Set(again.values())).toEqual(
        new Set(numbered(40, 40, 'later').map((m) => m.value)),
      );
    });

    test('delivers 50,000 messages to each of two groups, in batches of one partition', async () => {
      const topic = unique('topic');
      const total = 50_000;
      const a = collector();
      const b = collector();
      await consume({ topic, group: unique('group-a'), handleBatch: a.handleBatch });
      await consume({
        topic,
        group: unique('group-b'),
        handleBatch: b.handleBatch,
        maxBatchSize: 500,
      });
      const all = numbered(total, 1000);
      for (let i = 0; i < total; i += 500) await bus.publish(topic, all.slice(i, i + 500));

      await waitFor(() => a.messages.length >= total && b.messages.length >= total, 'all');
      for (const [sink, max] of [
        [a, 1000],
        [b, 500],
      ] as const) {
        expect(new Set(sink.values()).size).toBe(total);
        const misshapen = sink.batches.filter(
          (batch) =>
            batch.messages.length > max ||
            batch.messages.some(
              (m, i) =>
                m.partition !== batch.partition || m.offset !== batch.messages[0]!.offset + i,
            ),
        );
        expect(misshapen).toEqual([]);
      }
    });
  });
}

function unique(prefix: string): string {
  return `contract-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** `count` messages spread over `keys` keys, each value unique. */
function numbered(count: number, keys: number, tag = 'm'): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `key-${i % keys}`,
    value: `${tag}-${i}`,
  }));
}

function sum(offsets: Map<number, number>): number {
  let total = 0;
  for (const offset of offsets.values()) total += offset;
  return total;
}

function collector() {
  const batches: BusBatch[] = [];
  const messages: BusMessage[] = [];
  return {
    batches,
    messages,
    values: () => messages.map((m) => m.value),
    handleBatch: async (batch: BusBatch): Promise<void> => {
      batches.push(batch);
      messages.push(...batch.messages);
    },
  };
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
