// Starts the pipeline's consumer groups on the bus: OLAP sink, speed layer and (when given)
// the text pipeline. Each group commits its offsets only after its stage succeeded.
import type { Bus, BusBatch, BusConsumer } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { busDeadLetters } from './dead-letters.ts';
import { createOlapSink } from './olap-sink.consumer.ts';
import { createSpeedLayer } from './speed.consumer.ts';
import { EVENTS_TOPIC, GROUPS } from './topics.ts';

export type Stage = 'olapSink' | 'speedLayer' | 'text';

type Handler = (batch: BusBatch) => Promise<unknown>;

export interface PipelineDeps {
  bus: Bus;
  olap: Olap;
  live: LiveStore;
  /** The text pipeline's batch handler, when search is wired. */
  text?: { handleBatch(batch: BusBatch): Promise<void> };
  logger?: Logger;
  /** Stages to run in this process; all by default. */
  stages?: readonly Stage[];
}

export interface Pipeline {
  /** Resolves once every running stage has consumed everything published so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Bigger batches mean fewer, larger OLAP inserts, which is what ClickHouse wants. */
const SINK_BATCH = 20_000;
const SPEED_BATCH = 5_000;

export interface StageHandler {
  stage: Stage;
  /** The consumer group the stage reads with. */
  group: string;
  maxBatchSize: number;
  /** See `ConsumerOptions.batchWaitMs`. */
  batchWaitMs?: number;
  handle: Handler;
}

/** Each stage's batch handler over the given stores; the text stage only when search is wired. */
export function stageHandlers(deps: Omit<PipelineDeps, 'stages'>): StageHandler[] {
  const { bus, olap, live, text, logger } = deps;
  const sink = createOlapSink({ olap, deadLetters: busDeadLetters(bus), logger });
  const speed = createSpeedLayer({ live, logger, logId: bus.logId });
  const handlers: StageHandler[] = [
    {
      stage: 'olapSink',
      group: GROUPS.olapSink,
      maxBatchSize: SINK_BATCH,
      // Each insert feeds six materialized views; a quarter second of batching makes far fewer.
      batchWaitMs: 250,
      handle: (batch) => sink.handleBatch(batch),
    },
    {
      stage: 'speedLayer',
      group: GROUPS.speedLayer,
      maxBatchSize: SPEED_BATCH,
      handle: (batch) => speed.handleBatch(batch),
    },
  ];
  if (text) {
    handlers.push({
      stage: 'text',
      group: GROUPS.text,
      maxBatchSize: SPEED_BATCH,
      handle: (batch) => text.handleBatch(batch),
    });
  }
  return handlers;
}

export async function startPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const { bus, logger } = deps;
  const stages = deps.stages ?? ['olapSink', 'speedLayer', 'text'];
  const consumers: BusConsumer[] = [];
  const groups: string[] = [];

  const retrying =
    (stage: string, run: (batch: BusBatch) => Promise<unknown>) => async (batch: BusBatch) => {
      try {
        await run(batch);
      } catch (error) {
        // The bus redelivers the batch; logging here says which stage is stuck and why.
        logger?.error(
          { err: error, stage, partition: batch.partition },
          'batch failed, will retry',
        );
        throw error;
      }
    };

  const handlers = stageHandlers(deps);
  for (const { stage, group, maxBatchSize, batchWaitMs, handle } of handlers) {
    if (!stages.includes(stage)) continue;
    consumers.push(
      await bus.consume({
        topic: EVENTS_TOPIC,
        group,
        maxBatchSize,
        batchWaitMs,
        handleBatch: retrying(group, handle),
      }),
    );
    groups.push(group);
  }

  return {
    async caughtUp(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let end = await bus.endOffsets(EVENTS_TOPIC);
      for (;;) {
        for (const group of groups) {
          for (;;) {
            const committed = await bus.committedOffsets(EVENTS_TOPIC, group);
            const behind = [...end].some(([p, offset]) => (committed.get(p) ?? 0) < offset);
            if (!behind) break;
            if (Date.now() > deadline)
              throw new Error(
                `consumer group ${group} did not catch up in ${timeoutMs} ms (committed ${JSON.stringify([...committed])}, end ${JSON.stringify([...end])})`,
              );
            // Each look is a round trip to the bus (Kafka: an admin request); 25 ms is plenty.
            await new Promise((r) => setTimeout(r, 25));
          }
        }
        // Kafka reports a partition's end as its high watermark, which trails for a moment after
        // a leader moves: done only once the end no longer grows under us.
        const now = await bus.endOffsets(EVENTS_TOPIC);
        if ([...now].every(([p, offset]) => offset <= (end.get(p) ?? 0))) return;
        end = now;
      }
    },
    async close() {
      await Promise.all(consumers.map((c) => c.close()));
    },
  };
}
