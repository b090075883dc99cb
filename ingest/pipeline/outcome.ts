// What a pipeline stage did with each message of a batch, as values rather than exceptions
// (PostHog's ingestion does the same: ok | dlq | drop). A stage resolves with the messages it did
// not apply and why; every other message of the batch was applied. A stage rejects only when the
// batch as a whole could not be applied, and the stage runner decides what to do about that.
import type { BusBatch, BusMessage } from '../../lib/bus/bus.port.ts';
import type { DeadLetterStage } from '../../schema/dead-letter.ts';

export type StageName = DeadLetterStage;

export type MessageOutcome =
  /** The message cannot be applied, now or on a retry: kept on the dead-letter topic. */
  | { kind: 'dlq'; message: BusMessage; reason: string }
  /** The message is deliberately not applied by this stage (e.g. too old for it). */
  | { kind: 'drop'; message: BusMessage; reason: string };

export interface StageResult {
  /** Messages not applied, each with why; empty when the whole batch was applied. */
  outcomes: MessageOutcome[];
}

export const dlq = (message: BusMessage, reason: string): MessageOutcome => ({
  kind: 'dlq',
  message,
  reason,
});

export const drop = (message: BusMessage, reason: string): MessageOutcome => ({
  kind: 'drop',
  message,
  reason,
});

/** A pipeline stage: applies a batch of consecutive messages of one partition. */
export interface PipelineStage<R extends StageResult = StageResult> {
  readonly name: StageName;
  handleBatch(batch: BusBatch): Promise<R>;
}
