// Runs one pipeline stage over the batches the bus hands it, and acts on what happened:
// - the stage's own outcomes: dead letters are published (before the batch is committed), drops
//   are counted in the log;
// - a store that cannot be reached: the batch is rejected, so the bus redelivers it with backoff
//   for as long as the outage lasts, and nothing is dead-lettered;
// - any other failure of the whole batch: it is tried again a bounded number of times with
//   backoff, then split in halves, in offset order, until the messages that fail alone are found.
//   Those go to the dead-letter topic with the stage and the store's error; every other message
//   is applied once (each stage is idempotent per message, so a part applied before a later
//   failure is not applied twice when the batch comes back).
// A batch whose every message fails alone (more than one), or in which no part has gone through
// after `maxSplitTries`, is a fault of the stage or its store, not of the data: it is rejected
// and waits like an outage rather than dead-lettering it all. (Messages that failed alone before
// such a store was mended in the middle of a split are dead-lettered; `npm run dead-letters`
// replays them. Trying them again at the end would apply them out of order, which the speed
// layer's offset marks do not allow.)
import type { BusBatch, BusMessage } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import { isStoreUnavailable, StoreUnavailableError } from '../../lib/store-errors.ts';
import type { DeadLetterWriter } from './dead-letters.ts';
import type { MessageOutcome, PipelineStage, StageResult } from './outcome.ts';

export interface RetryPolicy {
  /** Tries of a whole batch that fails on something other than an outage, before it is split. */
  attempts: number;
  /** Wait after the first failed try; doubles after each, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /**
   * Tries of parts of a split batch after which, if no part has gone through yet, the fault is
   * taken to be the stage's or its store's rather than the data's (see above); bounds the work a
   * broken store costs per redelivery.
   */
  maxSplitTries: number;
}

export interface RunReport {
  /** Messages applied, including those the stage itself dead-lettered or dropped. */
  handled: number;
  deadLettered: number;
  dropped: number;
  /** Tries of parts of the batch after it was split; 0 when the batch went through whole. */
  splitTries: number;
}

export interface StageRunnerDeps {
  stage: PipelineStage;
  deadLetters: DeadLetterWriter;
  logger: Logger;
  retry: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
}

export type StageRunner = (batch: BusBatch) => Promise<RunReport>;

type Try = { ok: true; result: StageResult } | { ok: false; error: unknown };

export function createStageRunner(deps: StageRunnerDeps): StageRunner {
  const { stage, deadLetters, logger, retry } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  /** One try of a part of the batch; an outage is not the data's fault and ends the run. */
  const attempt = async (batch: BusBatch): Promise<Try> => {
    try {
      return { ok: true, result: await stage.handleBatch(batch) };
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      return { ok: false, error };
    }
  };

  return async (batch) => {
    const outcomes: MessageOutcome[] = [];
    const failed: { message: BusMessage; error: unknown }[] = [];
    let handled = 0;
    let splitTries = 0;

    let whole = await attempt(batch);
    for (let n = 1; !whole.ok && n < retry.attempts; n++) {
      const wait = Math.min(retry.backoffMs * 2 ** (n - 1), retry.maxBackoffMs);
      logger.warn(
        { stage: stage.name, partition: batch.partition, err: whole.error, attempt: n, wait },
        'batch failed; trying again',
      );
      await sleep(wait);
      whole = await attempt(batch);
    }

    const systemic = (): Error => {
      const error = failed[0]?.error ?? (whole.ok ? undefined : whole.error);
      return new Error(
        `${stage.name}: no part of the batch goes through (${failed.length} messages fail alone), so the stage or its store is at fault, not the data: ${describe(error)}`,
        { cause: error },
      );
    };

    /** Splits a part that just failed until its failing messages stand alone, in offset order. */
    const isolate = async (messages: readonly BusMessage[]): Promise<void> => {
      if (handled === 0 && splitTries >= retry.maxSplitTries) throw systemic();
      if (messages.length === 1) {
        // Once more alone, so that one unlucky failure does not dead-letter a good message.
        splitTries++;
        const again = await attempt({ ...batch, messages });
        if (again.ok) {
          handled++;
          outcomes.push(...again.result.outcomes);
        } else failed.push({ message: messages[0]!, error: again.error });
        return;
      }
      const middle = Math.ceil(messages.length / 2);
      for (const part of [messages.slice(0, middle), messages.slice(middle)]) {
        splitTries++;
        const tried = await attempt({ ...batch, messages: part });
        if (tried.ok) {
          handled += part.length;
          outcomes.push(...tried.result.outcomes);
        } else await isolate(part);
      }
    };

    if (whole.ok) {
      handled = batch.messages.length;
      outcomes.push(...whole.result.outcomes);
    } else {
      logger.warn(
        { stage: stage.name, partition: batch.partition, err: whole.error },
        `batch of ${batch.messages.length} failed ${retry.attempts} times; splitting it to find the messages at fault`,
      );
      await isolate(batch.messages);
      if (handled === 0 && failed.length > 1) throw systemic();
    }

    for (const { message, error } of failed) outcomes.push(dlqOf(message, error));
    const letters = outcomes.filter((o) => o.kind === 'dlq');
    try {
      await deadLetters(
        stage.name,
        letters.map(({ message, reason }) => ({ message, reason })),
      );
    } catch (error) {
      // The letters must not be lost: the batch waits, as for any other store that is down.
      throw new StoreUnavailableError('bus', `${stage.name}: publishing dead letters failed`, {
        cause: error,
      });
    }
    report(batch, outcomes, letters.length);
    return {
      handled,
      deadLettered: letters.length,
      dropped: outcomes.length - letters.length,
      splitTries,
    };
  };

  function report(batch: BusBatch, outcomes: readonly MessageOutcome[], letters: number): void {
    if (letters > 0) {
      const first = outcomes.find((o) => o.kind === 'dlq')!;
      logger.warn(
        {
          stage: stage.name,
          partition: batch.partition,
          count: letters,
          offset: first.message.offset,
          reason: first.reason,
        },
        'dead-lettered',
      );
    }
    if (outcomes.length > letters) {
      const reasons = new Map<string, number>();
      for (const o of outcomes) {
        if (o.kind === 'drop') reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
      }
      logger.debug(
        { stage: stage.name, partition: batch.partition, dropped: Object.fromEntries(reasons) },
        'dropped',
      );
    }
  }
}

function dlqOf(message: BusMessage, error: unknown): MessageOutcome {
  return { kind: 'dlq', message, reason: `failed alone: ${describe(error)}` };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // A store's message can quote the whole row; the original is in the letter already.
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
