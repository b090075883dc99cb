// Starts the pipeline's consumer groups on the bus: OLAP sink, speed layer and (when given)
// the text pipeline. Each group commits its offsets only after its stage succeeded.
import type { Bus, BusBatch, BusConsumer } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { LiveStore } from '../../lib/live/live.port.ts';
import type { Olap } from '../../lib/olap/olap.port.ts';
import { isStoreUnavailable } from '../../lib/store-errors.ts';
import { busDeadLetters } from './dead-letters.ts';
import { createOlapSink } from './olap-sink.consumer.ts';
import type { PipelineStage } from './outcome.ts';
import { createSpeedLayer } from './speed.consumer.ts';
import { createWriteMarker } from './write-marks.ts';
import { createStageRunner, type RetryPolicy, type StageRunner } from './stage-runner.ts';
import { EVENTS_TOPIC, GROUPS } from './topics.ts';
import type { LagRow } from '../../lib/observability/metrics.ts';

export type Stage = 'olapSink' | 'speedLayer' | 'text';

export interface PipelineDeps {
  bus: Bus;
  olap: Olap;
  live: LiveStore;
  /** The text pipeline stage, when search is wired. */
  text?: PipelineStage;
  logger: Logger;
  /** How a batch that fails on its data is retried before it is split; see `stage-runner.ts`. */
  retry: RetryPolicy;
  /** Stages to run in this process; all by default. */
  stages?: readonly Stage[];
}

export interface Pipeline {
  /** Messages each running stage's group has not committed yet, per partition. */
  lag(): Promise<LagRow[]>;
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
  /** The stage itself, for callers that act on its outcomes in their own way (replays). */
  run: PipelineStage;
  /** The stage under its runner: dead letters published, failures retried and split. */
  handle: StageRunner;
}

/** Each stage's batch handler over the given stores; the text stage only when search is wired. */
export function stageHandlers(deps: Omit<PipelineDeps, 'stages'>): StageHandler[] {
  const { bus, olap, live, text, logger, retry } = deps;
  const deadLetters = busDeadLetters(bus);
  const runner = (stage: PipelineStage) => createStageRunner({ stage, deadLetters, retry, logger });
  const sink = createOlapSink({ olap, marks: createWriteMarker({ live, logger }) });
  const speed = createSpeedLayer({ live, logId: bus.logId });
  const handlers: StageHandler[] = [
    {
      stage: 'olapSink',
      group: GROUPS.olapSink,
      maxBatchSize: SINK_BATCH,
      // Each insert feeds six materialized views; a quarter second of batching makes far fewer.
      batchWaitMs: 250,
      run: sink,
      handle: runner(sink),
    },
    {
      stage: 'speedLayer',
      group: GROUPS.speedLayer,
      maxBatchSize: SPEED_BATCH,
      run: speed,
      handle: runner(speed),
    },
  ];
  if (text) {
    handlers.push({
      stage: 'text',
      group: GROUPS.text,
      maxBatchSize: SPEED_BATCH,
      run: text,
      handle: runner(text),
    });
  }
  return handlers;
}

export async function startPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const { bus, logger } = deps;
  const stages = deps.stages ?? ['olapSink', 'speedLayer', 'text'];
  const consumers: BusConsumer[] = [];
  const groups: string[] = [];

  const logged = (stage: string, run: StageRunner) => async (batch: BusBatch) => {
    try {
      await run(batch);
    } catch (error) {
      // The bus redelivers the batch; this says which stage waits and why.
      logger.warn(
        { err: error, stage, partition: batch.partition },
        isStoreUnavailable(error)
          ? 'store unavailable; the batch waits and is retried'
          : 'batch failed as a whole; it waits and is retried',
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
        handleBatch: logged(group, handle),
      }),
    );
    groups.push(group);
  }

  return {
    async lag() {
      const end = await bus.endOffsets(EVENTS_TOPIC);
      const rows: LagRow[] = [];
      for (const group of groups) {
        const committed = await bus.committedOffsets(EVENTS_TOPIC, group);
        for (const [partition, offset] of end) {
          rows.push({
            group,
            partition,
            lag: Math.max(0, offset - (committed.get(partition) ?? 0)),
          });
        }
      }
      return rows;
    },
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
