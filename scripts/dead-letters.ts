// `npm run dead-letters -- list [--stage S] [--json]` shows what the pipeline stages gave up on,
// with the reason and where the original sits; `npm run dead-letters -- replay --stage S [--from N]
// [--to M]` feeds the letters of one stage to that stage again, once the cause is fixed, and
// reports the ones that still fail (they stay on the dead-letter topic; nothing is published).
//
// Only idempotent stages replay (the OLAP sink keeps each event id once, the text pipeline
// upserts by version), so replaying a letter twice, or one whose event was stored meanwhile,
// changes no total. The speed layer's counters are increments and cover only the last 48 hours,
// which the rollups answer anyway: its letters are listed, not replayed.
import { parseArgs } from 'node:util';
import type { Bus, BusBatch, BusMessage } from '../lib/bus/bus.port.ts';
import { ConfigError } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import type { StageHandler } from '../ingest/pipeline/pipeline.ts';
import { createStageRunner, type RetryPolicy } from '../ingest/pipeline/stage-runner.ts';
import { DEAD_LETTER_TOPIC } from '../ingest/pipeline/topics.ts';
import {
  DEAD_LETTER_STAGES,
  parseDeadLetter,
  type DeadLetter,
  type DeadLetterStage,
} from '../schema/dead-letter.ts';
import { parseEnvelope } from '../schema/event-envelope.ts';
import {
  openLogStores,
  parseOffset,
  replay,
  REPLAYABLE,
  replayableHandler,
  type ReplayableRole,
  type ReplayRange,
} from './replay.ts';
import { runCommand } from './run-command.ts';

/** A dead letter with where it sits on the dead-letter topic. */
export interface StoredLetter {
  partition: number;
  offset: number;
  letter: DeadLetter;
}

const READ_BATCH = 1000;

/** Every dead letter in the range, in topic order per partition; unreadable ones are skipped. */
export async function readDeadLetters(
  bus: Bus,
  range: ReplayRange = {},
  onUnreadable?: (message: BusMessage, reason: string) => void,
): Promise<StoredLetter[]> {
  const letters: StoredLetter[] = [];
  await replay(
    bus,
    {
      group: 'dead-letters.list',
      maxBatchSize: READ_BATCH,
      handle: async (batch) => {
        for (const message of batch.messages) {
          const parsed = parseDeadLetter(message.value);
          if (parsed.ok) {
            letters.push({
              partition: message.partition,
              offset: message.offset,
              letter: parsed.letter,
            });
          } else onUnreadable?.(message, parsed.reason);
        }
      },
    },
    range,
    { topic: DEAD_LETTER_TOPIC },
  );
  return letters.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export interface LetterReplay {
  /** Letters of the stage handed to it again. */
  replayed: number;
  /** Those the stage still could not apply, each with its new reason. */
  stillFailing: { letter: StoredLetter; reason: string }[];
}

/**
 * Feeds `letters` of the handler's stage to that stage again, with the pipeline's own retries
 * and splitting, and collects the ones that still fail instead of dead-lettering them twice.
 */
export async function replayDeadLetters(
  handler: StageHandler,
  letters: readonly StoredLetter[],
  deps: { logger: Logger; retry: RetryPolicy },
): Promise<LetterReplay> {
  const mine = letters.filter((l) => l.letter.stage === handler.run.name);
  const byOriginal = new Map<BusMessage, StoredLetter>();
  const stillFailing: LetterReplay['stillFailing'] = [];
  const run = createStageRunner({
    stage: handler.run,
    retry: deps.retry,
    logger: deps.logger,
    deadLetters: async (_stage, failed) => {
      for (const { message, reason } of failed) {
        stillFailing.push({ letter: byOriginal.get(message)!, reason });
      }
    },
  });
  // Grouped by the original's partition, oldest first, as the stage first saw them.
  const partitions = new Map<number, BusMessage[]>();
  for (const stored of mine) {
    const { letter } = stored;
    const message: BusMessage = {
      topic: letter.topic,
      partition: letter.partition,
      offset: letter.offset,
      key: letter.key,
      value: letter.original,
    };
    byOriginal.set(message, stored);
    const list = partitions.get(letter.partition);
    if (list) list.push(message);
    else partitions.set(letter.partition, [message]);
  }
  for (const [partition, messages] of partitions) {
    messages.sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < messages.length; i += handler.maxBatchSize) {
      const batch: BusBatch = {
        topic: messages[0]!.topic,
        partition,
        messages: messages.slice(i, i + handler.maxBatchSize),
      };
      await run(batch);
    }
  }
  return { replayed: mine.length, stillFailing };
}

/** One line per letter: where it is, when and where it failed, what it was, why. */
export function describeLetter({ partition, offset, letter }: StoredLetter): string {
  const parsed = parseEnvelope(letter.original);
  const what = parsed.ok
    ? `${parsed.envelope.event.type} ${JSON.stringify(parsed.envelope.event.id)} of org ${parsed.envelope.orgId}`
    : 'unreadable event';
  return [
    `${partition}:${offset}`,
    new Date(letter.failedAt).toISOString(),
    letter.stage,
    `${letter.topic}[${letter.partition}]@${letter.offset}`,
    what,
    `— ${letter.reason}`,
  ].join('  ');
}

const STAGES = Object.keys(REPLAYABLE) as ReplayableRole[];
const USAGE = [
  'usage: npm run dead-letters -- list [--stage olap-sink|speed-layer|text-pipeline] [--json]',
  `       npm run dead-letters -- replay --stage ${STAGES.join('|')} [--from OFFSET] [--to OFFSET]`,
  '(offsets are positions on the dead-letter topic, the first column of `list`)',
].join('\n');

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stage: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [action] = positionals;
  if (action !== 'list' && action !== 'replay') {
    throw new ConfigError(`${USAGE}\nsay list or replay`);
  }
  const stage = values.stage as DeadLetterStage | undefined;
  if (stage !== undefined && !DEAD_LETTER_STAGES.includes(stage)) {
    throw new ConfigError(
      `${USAGE}\nno stage ${stage}; the stages are ${DEAD_LETTER_STAGES.join(', ')}`,
    );
  }
  if (action === 'replay' && !stage) throw new ConfigError(`${USAGE}\n--stage is required`);
  if (action === 'replay' && !(stage! in REPLAYABLE)) {
    throw new ConfigError(
      `${USAGE}\n--stage ${stage} cannot be replayed: only idempotent stages can (${STAGES.join(', ')})`,
    );
  }
  const range: ReplayRange = {
    from: parseOffset('from', values.from),
    to: parseOffset('to', values.to),
  };
  const { config, logger, stores } = await openLogStores('dead-letters');
  try {
    const { bus } = stores;
    const letters = (
      await readDeadLetters(bus, range, (m, reason) =>
        logger.warn({ partition: m.partition, offset: m.offset, reason }, 'unreadable dead letter'),
      )
    ).filter((l) => !stage || l.letter.stage === stage);

    if (action === 'list') {
      for (const l of letters) {
        console.log(
          values.json
            ? JSON.stringify({ ...l.letter, at: `${l.partition}:${l.offset}` })
            : describeLetter(l),
        );
      }
      if (!values.json) console.log(summary(letters));
      return;
    }

    const handler = replayableHandler(stores, config, logger, stage as ReplayableRole);
    const started = Date.now();
    const result = await replayDeadLetters(handler, letters, {
      logger,
      retry: config.pipeline.retry,
    });
    for (const { letter, reason } of result.stillFailing) {
      console.log(
        `still failing: ${describeLetter({ ...letter, letter: { ...letter.letter, reason } })}`,
      );
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const applied = result.replayed - result.stillFailing.length;
    console.log(
      `dead letters ${stage}: ${applied.toLocaleString('en')} of ${result.replayed.toLocaleString('en')} applied in ${seconds} s, ${result.stillFailing.length.toLocaleString('en')} still failing`,
    );
    if (result.stillFailing.length > 0) process.exitCode = 1;
  } finally {
    await stores.close();
  }
}

function summary(letters: readonly StoredLetter[]): string {
  if (letters.length === 0) return 'no dead letters';
  const perStage = new Map<string, number>();
  for (const { letter } of letters)
    perStage.set(letter.stage, (perStage.get(letter.stage) ?? 0) + 1);
  const parts = [...perStage].map(([s, n]) => `${s} ${n.toLocaleString('en')}`);
  return `${letters.length.toLocaleString('en')} dead letters (${parts.join(', ')})`;
}

// Imported by the tests; run as a command only when it is the entry point.
if (import.meta.url === `file://${process.argv[1]}`) runCommand(main);
