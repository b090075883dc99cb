// The bus: an append-only log split into partitions by key, read by consumer groups.
// Embedded: `memory.bus.ts`. Server: `kafka.bus.ts`. Both pass `bus.contract.ts`.

export interface OutgoingMessage {
  /** Partition key: the account, so one account's events stay in order. */
  key: string;
  value: string;
}

export interface BusMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
}

export interface BusBatch {
  topic: string;
  partition: number;
  messages: readonly BusMessage[];
}

export interface ConsumerOptions {
  topic: string;
  /** Consumers sharing a group split the partitions; each group sees every message. */
  group: string;
  /**
   * Called with consecutive messages of one partition. The group's offset is committed only
   * after this resolves; a rejection redelivers the batch from its first offset after a backoff
   * (at-least-once). Batches of different partitions may be in flight at once, so a failing
   * partition does not hold back the others.
   */
  handleBatch: (batch: BusBatch) => Promise<void>;
  /** Upper bound on messages per batch. Default 1000. */
  maxBatchSize?: number;
  /**
   * How long the bus may hold back a partial batch to fill it: fewer, larger batches for a
   * stage whose writes have a high fixed cost, at the price of that much delay. Default 0.
   * The in-process bus already hands over whatever one event-loop turn published, and ignores it.
   */
  batchWaitMs?: number;
  /**
   * Where a group with no committed offset starts: the oldest message kept (default), or only
   * messages published after it joined.
   */
  fromBeginning?: boolean;
  /**
   * For a group with no committed offset: where to start on the listed partitions (clamped to
   * the messages kept), overriding `fromBeginning` there. Replays and backfills use it.
   */
  startAt?: ReadonlyMap<number, number>;
}

export interface BusConsumer {
  /** Stops fetching, waits for the batch in flight, and leaves the group. */
  close(): Promise<void>;
}

export interface Bus {
  /**
   * Names this bus's log, for consumers that remember offsets elsewhere: the same in every
   * process reading one durable log (Kafka, by topic prefix), fresh for the in-process log,
   * whose offsets start again at 0 in each process.
   */
  readonly logId: string;
  /**
   * Resolves only once every message is durable on the bus. A rejection means "not known to be
   * stored": some messages may still have been written, so a caller that resends must tolerate
   * duplicates (the pipeline drops them by event id).
   */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Resolves once the consumer has joined its group and been given its partitions. */
  consume(options: ConsumerOptions): Promise<BusConsumer>;
  /**
   * Next offset the group reads per partition: its committed offset, or, for a partition it has
   * not committed on yet, where it starts reading. Empty for a group that does not exist.
   */
  committedOffsets(topic: string, group: string): Promise<Map<number, number>>;
  /** Offset one past the last message per partition. */
  endOffsets(topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}
