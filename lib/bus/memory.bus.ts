// Embedded bus: an in-process log per topic and partition with Kafka's consumer-group semantics,
// so one process runs the whole pipeline and the same consumers later run on Kafka unchanged.
//
// Retention: a partition keeps every message at or above the lowest position of the groups that
// have ever consumed its topic (committed offset, or start offset before the first commit).
// Before any group exists nothing is dropped, so messages published early wait for their readers.
// A group created later with `fromBeginning` starts at the oldest message still kept, as on
// Kafka after retention. A group that stops for good holds retention: messages wait for it.
import { randomUUID } from 'node:crypto';
import type {
  Bus,
  BusBatch,
  BusConsumer,
  BusMessage,
  ConsumerOptions,
  OutgoingMessage,
} from './bus.port.ts';

export interface MemoryBusOptions {
  /** Partitions per topic; keys are spread over them by a stable hash. */
  partitions?: number;
  /** First wait before a rejected batch is redelivered; doubles per failure up to `maxRetryMs`. */
  retryMs?: number;
  /** Longest wait between redeliveries of a failing batch. */
  maxRetryMs?: number;
  /** Told of every rejected batch (the batch is redelivered regardless). */
  onBatchError?: (error: unknown, batch: BusBatch, group: string) => void;
}

const DEFAULT_MAX_BATCH_SIZE = 1000;

/** Stable partition of a key: FNV-1a over its UTF-16 code units. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

class PartitionLog {
  /** Offset of `messages[head]`, the oldest message kept. */
  private base = 0;
  private head = 0;
  private messages: BusMessage[] = [];

  get start(): number {
    return this.base;
  }

  get end(): number {
    return this.base + this.messages.length - this.head;
  }

  append(topic: string, partition: number, key: string, value: string): void {
    this.messages.push({ topic, partition, offset: this.end, key, value });
  }

  read(from: number, max: number): BusMessage[] {
    const i = this.head + Math.max(from, this.base) - this.base;
    return this.messages.slice(i, i + max);
  }

  dropBelow(offset: number): void {
    if (offset <= this.base) return;
    const n = Math.min(offset, this.end) - this.base;
    this.head += n;
    this.base += n;
    // Compacting only once the dead prefix outweighs the live part keeps drops amortised O(1).
    if (this.head >= 1024 && this.head * 2 >= this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }
}

interface Member {
  handleBatch: (batch: BusBatch) => Promise<void>;
  maxBatchSize: number;
  inFlight: Set<Promise<void>>;
}

/** One group's reader of one partition: at most one batch in flight, handed to its owner. */
class PartitionWorker {
  owner: Member | undefined;
  private scheduled = false;
  private running = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: MemoryBusState,
    private readonly group: Group,
    private readonly partition: number,
  ) {}

  /** Reads on soon if there is anything to read; cheap to call on every publish. */
  wake(): void {
    if (this.scheduled || this.running || this.retryTimer || !this.owner) return;
    if (this.group.position(this.partition) >= this.group.topic.logs[this.partition]!.end) return;
    this.scheduled = true;
    // setImmediate rather than a microtask: publishes of one loop turn coalesce into one batch,
    // and a long backlog is read a batch per turn without starving I/O.
    setImmediate(() => {
      this.scheduled = false;
      void this.step();
    });
  }

  reassign(owner: Member | undefined): void {
    this.owner = owner;
    // A new owner retries a failing batch at once rather than inheriting the backoff.
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.wake();
  }

  stop(): void {
    this.owner = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async step(): Promise<void> {
    const owner = this.owner;
    if (!owner || this.running) return;
    const log = this.group.topic.logs[this.partition]!;
    const messages = log.read(this.group.position(this.partition), owner.maxBatchSize);
    if (messages.length === 0) return;
    const batch: BusBatch = { topic: this.group.topic.name, partition: this.partition, messages };

    this.running = true;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    owner.inFlight.add(done);
    let ok = false;
    try {
      await owner.handleBatch(batch);
      ok = true;
    } catch (error) {
      this.bus.onBatchError?.(error, batch, this.group.name);
    } finally {
      // Committing even if the owner left meanwhile is safe: no one else read this batch.
      if (ok) {
        this.failures = 0;
        this.group.commit(this.partition, messages[messages.length - 1]!.offset + 1);
      }
      this.running = false;
      owner.inFlight.delete(done);
      resolveDone();
    }
    if (ok) this.wake();
    else this.retryLater();
  }

  private retryLater(): void {
    if (!this.owner) return;
    const delay = Math.min(this.bus.retryMs * 2 ** this.failures, this.bus.maxRetryMs);
    this.failures++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, delay);
  }
}

class Group {
  /** Committed offset per partition, undefined until the first commit. */
  readonly committed: (number | undefined)[];
  /** Where reading starts before the first commit, fixed when the group is created. */
  private readonly initial: number[];
  readonly workers: PartitionWorker[];
  /** In join order; partition p belongs to members[p % members.length]. */
  readonly members: Member[] = [];

  constructor(
    bus: MemoryBusState,
    readonly topic: Topic,
    readonly name: string,
    fromBeginning: boolean,
    startAt: ReadonlyMap<number, number> = new Map(),
  ) {
    this.committed = topic.logs.map(() => undefined);
    this.initial = topic.logs.map((log, p) => {
      const at = startAt.get(p);
      if (at === undefined) return fromBeginning ? log.start : log.end;
      return Math.min(Math.max(at, log.start), log.end);
    });
    this.workers = topic.logs.map((_, p) => new PartitionWorker(bus, this, p));
  }

  position(partition: number): number {
    return this.committed[partition] ?? this.initial[partition]!;
  }

  commit(partition: number, offset: number): void {
    // Offsets only move forward, whatever order commits arrive in.
    if (offset <= this.position(partition)) return;
    this.committed[partition] = offset;
    this.topic.retain(partition);
  }

  rebalance(): void {
    const n = this.members.length;
    this.workers.forEach((worker, p) => {
      const owner = n === 0 ? undefined : this.members[p % n];
      if (worker.owner !== owner) worker.reassign(owner);
    });
  }
}

class Topic {
  readonly logs: PartitionLog[];
  readonly groups = new Map<string, Group>();

  constructor(
    readonly name: string,
    partitions: number,
  ) {
    this.logs = Array.from({ length: partitions }, () => new PartitionLog());
  }

  retain(partition: number): void {
    let floor = Infinity;
    for (const group of this.groups.values()) floor = Math.min(floor, group.position(partition));
    if (floor !== Infinity) this.logs[partition]!.dropBelow(floor);
  }
}

interface MemoryBusState {
  retryMs: number;
  maxRetryMs: number;
  onBatchError: MemoryBusOptions['onBatchError'];
}

export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const { partitions = 8, retryMs = 100, maxRetryMs = 2000, onBatchError } = options;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  const state: MemoryBusState = { retryMs, maxRetryMs, onBatchError };
  const topics = new Map<string, Topic>();
  const consumers = new Set<BusConsumer>();
  let closed = false;

  const topicNamed = (name: string): Topic => {
    let topic = topics.get(name);
    if (!topic) {
      topic = new Topic(name, partitions);
      topics.set(name, topic);
    }
    return topic;
  };

  const assertOpen = (): void => {
    if (closed) throw new Error('bus is closed');
  };

  return {
    logId: `memory:${randomUUID()}`,
    async publish(topicName: string, messages: readonly OutgoingMessage[]): Promise<void> {
      assertOpen();
      if (messages.length === 0) return;
      const topic = topicNamed(topicName);
      const touched = new Uint8Array(partitions);
      for (const { key, value } of messages) {
        const p = partitionOf(key, partitions);
        topic.logs[p]!.append(topicName, p, key, value);
        touched[p] = 1;
      }
      for (const group of topic.groups.values()) {
        for (let p = 0; p < partitions; p++) if (touched[p]) group.workers[p]!.wake();
      }
    },

    async consume(options: ConsumerOptions): Promise<BusConsumer> {
      assertOpen();
      const { maxBatchSize = DEFAULT_MAX_BATCH_SIZE, fromBeginning = true } = options;
      if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
        throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
      }
      const topic = topicNamed(options.topic);
      let group = topic.groups.get(options.group);
      if (!group) {
        group = new Group(state, topic, options.group, fromBeginning, options.startAt);
        topic.groups.set(options.group, group);
      }
      const member: Member = {
        handleBatch: options.handleBatch,
        maxBatchSize,
        inFlight: new Set(),
      };
      group.members.push(member);
      group.rebalance();

      const joined = group;
      let left = false;
      const consumer: BusConsumer = {
        async close(): Promise<void> {
          if (!left) {
            left = true;
            joined.members.splice(joined.members.indexOf(member), 1);
            joined.rebalance();
            consumers.delete(consumer);
          }
          await Promise.all(member.inFlight);
        },
      };
      consumers.add(consumer);
      return consumer;
    },

    async committedOffsets(topicName: string, groupName: string): Promise<Map<number, number>> {
      const offsets = new Map<number, number>();
      const group = topics.get(topicName)?.groups.get(groupName);
      // A partition without a commit reports where the group will start reading it.
      group?.committed.forEach((_, p) => offsets.set(p, group.position(p)));
      return offsets;
    },

    async endOffsets(topicName: string): Promise<Map<number, number>> {
      const topic = topics.get(topicName);
      const offsets = new Map<number, number>();
      for (let p = 0; p < partitions; p++) offsets.set(p, topic?.logs[p]!.end ?? 0);
      return offsets;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([...consumers].map((c) => c.close()));
      for (const topic of topics.values()) {
        for (const group of topic.groups.values()) for (const w of group.workers) w.stop();
      }
    },
  };
}
