// `npm run replay -- --stage olap-sink [--from N] [--to M] [--partition P …]`: feeds a range of
// the events topic through one pipeline stage again, e.g. to backfill after a sink bug was fixed
// or to rebuild a store. It reads with a fresh consumer group, so the running stages' offsets are
// untouched, and stops once every partition reached the end of the range.
//
// Only idempotent stages replay: the OLAP sink keeps each event id once and the text pipeline
// upserts by version, so a replay changes no total. The speed layer's counters are increments,
// and it is not offered.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type LoupeConfig, type PipelineRole } from '../lib/config.ts';
import type { Bus, BusBatch } from '../lib/bus/bus.port.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { stageHandlers, type StageHandler } from '../ingest/pipeline/pipeline.ts';
import { EVENTS_TOPIC } from '../ingest/pipeline/topics.ts';
import { runCommand } from './run-command.ts';
import { openStores, type Stores } from './stores.ts';
import { textStage } from './text-stage.ts';

export const REPLAYABLE = {
  'olap-sink': 'olapSink',
  'text-pipeline': 'text',
} as const satisfies Partial<Record<PipelineRole, StageHandler['stage']>>;
export type ReplayableRole = keyof typeof REPLAYABLE;

export interface ReplayRange {
  /** First offset replayed on every chosen partition. Default: the oldest kept. */
  from?: number;
  /** Offset one past the last replayed. Default: the end when the replay starts. */
  to?: number;
  /** Partitions to replay. Default: all. */
  partitions?: readonly number[];
}

export interface ReplayProgress {
  done: number;
  total: number;
}

/** What a replay feeds: a stage handler, or any reader of a topic's batches. */
export interface ReplayReader {
  /** Names the fresh consumer group the replay reads with. */
  group: string;
  maxBatchSize: number;
  handle: (batch: BusBatch) => Promise<unknown>;
}

export interface ReplayOptions {
  /** The topic read. Default: the events topic. */
  topic?: string;
  onProgress?: (progress: ReplayProgress) => void;
  /** Told of each failed batch; the bus retries it with backoff. */
  onFailure?: (error: unknown) => void;
  /** Failures in a row after which the replay stops and rejects. Default 5. */
  maxFailures?: number;
}

/** Runs `handler` over the range with a fresh group; resolves with the messages handed to it. */
export async function replay(
  bus: Bus,
  handler: ReplayReader,
  range: ReplayRange,
  options: ReplayOptions = {},
): Promise<ReplayProgress> {
  const { topic = EVENTS_TOPIC, onProgress, onFailure, maxFailures = 5 } = options;
  const ends = await bus.endOffsets(topic);
  const chosen = [...ends.keys()].filter((p) => !range.partitions || range.partitions.includes(p));
  const unknown = (range.partitions ?? []).filter((p) => !ends.has(p));
  if (unknown.length > 0) {
    throw new ConfigError(
      `no partition ${unknown.join(', ')} in ${topic} (has 0–${ends.size - 1})`,
    );
  }
  const stopAt = new Map(chosen.map((p) => [p, Math.min(range.to ?? ends.get(p)!, ends.get(p)!)]));
  // Partitions not chosen start at their end: the group reads nothing there.
  const startAt = new Map(
    [...ends].map(([p, end]) => [p, chosen.includes(p) ? (range.from ?? 0) : end]),
  );
  const group = `replay.${handler.group}.${Date.now().toString(36)}`;

  const progress: ReplayProgress = {
    done: 0,
    total: chosen.reduce((n, p) => n + Math.max(0, stopAt.get(p)! - (range.from ?? 0)), 0),
  };
  // Where each partition is read from; the bus may start later than asked (retention), so the
  // group's real positions replace these once it has joined.
  const reached = new Map(startAt);
  let finished!: () => void;
  let failed!: (error: unknown) => void;
  const allReached = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const check = () => {
    if (chosen.every((p) => reached.get(p)! >= stopAt.get(p)!)) finished();
  };
  let failures = 0;

  const nothingToDo = chosen.every((p) => startAt.get(p)! >= stopAt.get(p)!);
  if (nothingToDo) return progress;
  const consumer = await bus.consume({
    topic,
    group,
    startAt,
    maxBatchSize: handler.maxBatchSize,
    handleBatch: async (batch) => {
      const stop = stopAt.get(batch.partition) ?? 0;
      const messages = batch.messages.filter((m) => m.offset < stop);
      try {
        if (messages.length > 0) await handler.handle({ ...batch, messages });
        failures = 0;
      } catch (error) {
        onFailure?.(error);
        if (++failures >= maxFailures) failed(error);
        throw error;
      }
      progress.done += messages.length;
      const next = batch.messages.at(-1)!.offset + 1;
      reached.set(batch.partition, Math.max(reached.get(batch.partition) ?? 0, next));
      onProgress?.(progress);
      check();
    },
  });
  for (const [p, position] of await bus.committedOffsets(topic, group)) {
    reached.set(p, Math.max(reached.get(p) ?? 0, position));
  }
  check();
  try {
    await allReached;
  } finally {
    await consumer.close();
  }
  return progress;
}

/** An offset given on a command line, or undefined when it was not. */
export function parseOffset(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ConfigError(`--${name} must be an offset ≥ 0, got "${value}"`);
  return n;
}

/**
 * The configuration, a logger and the stores of a command line that reads the Kafka log; refuses
 * the in-process bus, which keeps nothing once its process ends.
 */
export async function openLogStores(
  command: string,
): Promise<{ config: LoupeConfig; logger: Logger; stores: Stores }> {
  const config = loadConfig();
  if (!config.servers.kafkaBrokers) {
    throw new ConfigError(
      `${command} reads the Kafka log: set LOUPE_KAFKA_BROKERS (the in-process bus keeps nothing once its process ends)`,
    );
  }
  const logger = createLogger(config.logLevel);
  return { config, logger, stores: await openStores(config, logger) };
}

/** The handler of one replayable stage over the stores, with the configured retries. */
export function replayableHandler(
  stores: Stores,
  config: LoupeConfig,
  logger: Logger,
  role: ReplayableRole,
): StageHandler {
  const { olap, bus, live } = stores;
  return stageHandlers({
    bus,
    olap,
    live,
    text: textStage(stores, config, logger),
    logger,
    retry: config.pipeline.retry,
  }).find((h) => h.stage === REPLAYABLE[role])!;
}

const USAGE = `usage: npm run replay -- --stage ${Object.keys(REPLAYABLE).join('|')} [--from OFFSET] [--to OFFSET] [--partition N …]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      partition: { type: 'string', multiple: true },
    },
  });
  const role = values.stage;
  if (!role) throw new ConfigError(`${USAGE}\n--stage is required`);
  if (!(role in REPLAYABLE)) {
    throw new ConfigError(
      `${USAGE}\n--stage ${role} cannot be replayed: only idempotent stages can (${Object.keys(REPLAYABLE).join(', ')})`,
    );
  }
  const range: ReplayRange = {
    from: parseOffset('from', values.from),
    to: parseOffset('to', values.to),
    partitions: values.partition?.map((p) => parseOffset('partition', p)!),
  };
  const { config, logger, stores } = await openLogStores('replay');
  try {
    const { bus } = stores;
    const handler = replayableHandler(stores, config, logger, role as ReplayableRole);
    const started = Date.now();
    let shown = 0;
    const result = await replay(bus, handler, range, {
      onProgress: ({ done, total }) => {
        if (Date.now() - shown < 1000) return;
        shown = Date.now();
        console.log(
          `replay ${role}: ${done.toLocaleString('en')} / ~${total.toLocaleString('en')} messages`,
        );
      },
      onFailure: (error) =>
        logger.error({ err: error }, `replay ${role}: a batch failed, retrying`),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`replay ${role}: ${result.done.toLocaleString('en')} messages in ${seconds} s`);
  } finally {
    await stores.close();
  }
}

// Imported by the tests for `replay`; run as a command only when it is the entry point.
if (import.meta.url === `file://${process.argv[1]}`) runCommand(main);
