// Server bus: Kafka through kafkajs. Topics are created on first use with a fixed partition
// count, keys go through Kafka's own murmur2 partitioner (one account, one partition, in order),
// the producer is idempotent and waits for every in-sync replica, and a consumer commits a
// batch's offset only after its handler resolved. Passes `bus.contract.ts` like the memory bus.
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type ISocketFactory,
  Kafka,
  logLevel as KafkaLogLevel,
  type LogEntry,
  type Message,
  type PartitionMetadata,
  Partitioners,
} from 'kafkajs';
import type { Logger } from '../logger.ts';
import type {
  Bus,
  BusBatch,
  BusConsumer,
  BusMessage,
  ConsumerOptions,
  OutgoingMessage,
} from './bus.port.ts';

export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  /** Put in front of every topic and group name, so deployments can share a cluster. */
  prefix?: string;
  clientId?: string;
  /** Partitions of each topic the bus creates. Default 8. */
  partitions?: number;
  /** Replicas of each topic the bus creates. Default: the broker's default. */
  replicationFactor?: number;
  /** First wait before a rejected batch is redelivered; doubles per failure up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Told of every rejected batch (the batch is redelivered regardless). */
  onBatchError?: (error: unknown, batch: BusBatch, group: string) => void;
  /** How long a publish keeps retrying an unreachable cluster before it rejects. Default 30 s. */
  publishTimeoutMs?: number;
  /** How connections to brokers are opened; fault tests wrap sockets to lose broker replies. */
  socketFactory?: ISocketFactory;
  logger?: Logger;
}

const DEFAULT_MAX_BATCH_SIZE = 1000;
/** Most messages one flush of the outbox takes. */
const MAX_FLUSH = 20_000;

interface Pending {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  /** Called once: with no argument when every message is stored, else with the error. */
  done: (error?: unknown) => void;
}

/** What kafkajs' partitioner needs to know of a topic: how many partitions it has. */
function partitionMetadata(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: -1,
    replicas: [],
    isr: [],
    offlineReplicas: [],
  }));
}

/**
 * Most bytes of keys and values in one send to a partition: a broker refuses a record batch over
 * its `message.max.bytes` (1 MiB by default) for good, so a hot partition's share of a flush goes
 * in several requests rather than failing every retry.
 */
const MAX_SEND_BYTES = 768 * 1024;

/** Consecutive runs of messages whose keys and values stay under `MAX_SEND_BYTES`. */
export function byteChunks(messages: readonly Message[], limit = MAX_SEND_BYTES): Message[][] {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = byteLength(message.key) + byteLength(message.value);
    if (chunk.length > 0 && bytes + size > limit) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function byteLength(part: Message['key'] | Message['value']): number {
  if (part === null || part === undefined) return 0;
  return typeof part === 'string' ? Buffer.byteLength(part) : part.length;
}

/** How long `close()` waits for publishes already taken in to be sent, within a shutdown grace. */
const CLOSE_FLUSH_MS = 5000;

/** How often a member heartbeats; the group evicts one silent for the session timeout. */
const HEARTBEAT_MS = 1000;
/** How long `consume` waits to be given partitions before it gives up with an error. */
const JOIN_TIMEOUT_MS = 60_000;
/** Reads of a new topic's metadata before giving up (about 10 s in all). */
const METADATA_ATTEMPTS = 12;
/** Between attempts to join again after kafkajs gave a member up. */
const REJOIN_RETRY_MS = 5000;

export function createKafkaBus(options: KafkaBusOptions): Bus {
  const prefix = options.prefix ?? '';
  const partitions = options.partitions ?? 8;
  const retryMs = options.retryMs ?? 200;
  const maxRetryMs = options.maxRetryMs ?? 10_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
  const logger = options.logger;
  const kafka = new Kafka({
    clientId: options.clientId ?? 'loupe',
    brokers: [...options.brokers],
    connectionTimeout: 3000,
    // Bounded so an unreachable cluster turns into an error the caller can report.
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    logCreator: () => (entry: LogEntry) => logKafka(logger, entry),
  });
  const topicName = (topic: string) => `${prefix}${topic}`;
  const groupName = (group: string) => `${prefix}${group}`;

  const connectedAdmin = lazyConnection('the admin client', () => kafka.admin());
  const connectedProducer = lazyConnection('the producer', () =>
    kafka.producer({
      idempotent: true,
      // Idempotence keeps order and drops duplicates only with one request in flight.
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    }),
  );

  // Topics this process has seen exist, with their partition count: creating is idempotent but
  // costs a round trip.
  const known = new Map<string, Promise<number>>();
  const ensureTopic = (topic: string): Promise<number> => {
    let ready = known.get(topic);
    if (!ready) {
      ready = (async () => {
        const a = await connectedAdmin();
        // Asking first keeps kafkajs from logging an error for a topic that already exists.
        if (!(await a.listTopics()).includes(topicName(topic))) {
          await a.createTopics({
            waitForLeaders: true,
            topics: [
              {
                topic: topicName(topic),
                numPartitions: partitions,
                replicationFactor: options.replicationFactor ?? -1,
              },
            ],
          });
        }
        // On a cluster, a broker may not know of a topic created a moment ago: ask again.
        for (let attempt = 1; ; attempt++) {
          try {
            const { topics } = await a.fetchTopicMetadata({ topics: [topicName(topic)] });
            return topics[0]?.partitions.length ?? partitions;
          } catch (error) {
            const retriable = (error as { retriable?: unknown }).retriable === true;
            if (!retriable || attempt >= METADATA_ATTEMPTS) throw error;
            await new Promise((r) => setTimeout(r, 100 * attempt));
          }
        }
      })().catch((error: unknown) => {
        known.delete(topic);
        throw kafkaError(`creating topic ${topicName(topic)}`, error);
      });
      known.set(topic, ready);
    }
    return ready;
  };

  // kafkajs's idempotent producer can acknowledge messages it never stored when a leader moves:
  // two sends racing on one partition may reuse a rolled-back sequence number (the broker then
  // takes the second for a duplicate of the first), and a retried send that spans brokers skips
  // partitions whose new leader already answered. So publishes wait in an outbox, and each flush
  // sends every partition's messages in a request of its own, one flush at a time: no partition
  // ever has two sends in flight, and no send spans two partitions.
  const partitionOf = Partitioners.DefaultPartitioner();
  const outbox: Pending[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    if (flushing || outbox.length === 0) return;
    flushing = true;
    const taken: Pending[] = [];
    let size = 0;
    while (outbox.length > 0 && (size === 0 || size + outbox[0]!.messages.length <= MAX_FLUSH)) {
      const next = outbox.shift()!;
      taken.push(next);
      size += next.messages.length;
    }
    try {
      const producer = await connectedProducer();
      const sends = new Map<
        string,
        { topic: string; partition: number; pending: Pending[]; messages: Message[] }
      >();
      for (const pending of taken) {
        for (const message of pending.messages) {
          const partition = partitionOf({
            topic: pending.topic,
            partitionMetadata: pending.partitionMetadata,
            message,
          });
          const id = `${pending.topic}|${partition}`;
          let send = sends.get(id);
          if (!send)
            sends.set(id, (send = { topic: pending.topic, partition, pending: [], messages: [] }));
          send.messages.push({ ...message, partition });
          if (send.pending.at(-1) !== pending) send.pending.push(pending);
        }
      }
      const failures = new Map<Pending, unknown>();
      await Promise.all(
        [...sends.values()].map(async ({ topic, messages, pending }) => {
          try {
            // One request after another, so the partition still has one send in flight.
            for (const chunk of byteChunks(messages)) {
              await producer.send({ topic, acks: -1, messages: chunk });
            }
          } catch (error) {
            for (const p of pending) failures.set(p, error);
          }
        }),
      );
      // A failed send may still have been stored (the reply was lost), and kafkajs rolls its
      // sequence numbers back anyway: the next send would reuse them, and the broker would take
      // a batch of the same size for a duplicate, acknowledge it and drop it. A new producer gets
      // a new producer id, whose sequences nothing stored can match.
      if (failures.size > 0) await connectedProducer.disconnect().catch(() => undefined);
      for (const p of taken) p.done(failures.get(p));
    } catch (error) {
      for (const p of taken) p.done(error);
    } finally {
      flushing = false;
      void flush();
    }
  };

  const consumers = new Set<KafkaBusConsumer>();

  /** A topic nobody has published to or consumed yet has no offsets: reads answer empty. */
  const topicExists = async (a: Admin, topic: string): Promise<boolean> => {
    if (known.has(topic)) return true;
    const topics = await a.listTopics().catch((error: unknown) => {
      throw kafkaError('listing topics', error);
    });
    return topics.includes(topicName(topic));
  };

  /**
   * Commits starting offsets for a group that has none: Kafka resolves "latest" only at a
   * member's first fetch, so a message published in between would be skipped, and a replay's
   * start offsets must hold before the first fetch too.
   */
  const pinNewGroup = async (group: string, topic: string, o: ConsumerOptions) => {
    const a = await connectedAdmin();
    const committed = await a.fetchOffsets({ groupId: group, topics: [topic] });
    if (committed.some((t) => t.partitions.some((p) => Number(p.offset) >= 0))) return;
    const kept = await topicOffsets(a, topic);
    const starts = kept.map((k) => {
      const low = Number(k.low);
      const high = Number(k.high);
      const at = o.startAt?.get(k.partition);
      const start =
        at === undefined
          ? o.fromBeginning === false
            ? high
            : low
          : Math.min(Math.max(at, low), high);
      return { topic, partition: k.partition, offset: String(start) };
    });
    // What kafkajs' admin.setOffsets does, without its fixed five-second fetch wait: join the
    // group alone, commit, leave.
    const pin = kafka.consumer({ groupId: group, maxWaitTimeInMs: 50, heartbeatInterval: 1000 });
    const joined = new Promise<void>((resolve) => {
      const off = pin.on(pin.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    try {
      await pin.connect();
      await pin.subscribe({ topic });
      await pin.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });
      await joined;
      await pin.commitOffsets(starts);
    } finally {
      await pin.disconnect();
    }
  };

  return {
    logId: `kafka:${prefix}`,
    async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
      if (messages.length === 0) return;
      const send = async () => {
        const count = await ensureTopic(topic);
        await new Promise<void>((resolve, reject) => {
          outbox.push({
            topic: topicName(topic),
            partitionMetadata: partitionMetadata(count),
            messages: messages.map((m) => ({ key: m.key, value: m.value })),
            done: (error) =>
              error === undefined
                ? resolve()
                : reject(
                    error instanceof Error ? error : new Error('publish failed', { cause: error }),
                  ),
          });
          void flush();
        });
      };
      await withTimeout(send(), publishTimeoutMs, `publishing to ${topicName(topic)}`).catch(
        (error: unknown) => {
          throw kafkaError(`publishing ${messages.length} messages to ${topicName(topic)}`, error);
        },
      );
    },

    async consume(consumerOptions: ConsumerOptions): Promise<BusConsumer> {
      await ensureTopic(consumerOptions.topic);
      const group = groupName(consumerOptions.group);
      const topic = topicName(consumerOptions.topic);
      if (consumerOptions.fromBeginning === false || consumerOptions.startAt) {
        await pinNewGroup(group, topic, consumerOptions);
      }
      const consumer = new KafkaBusConsumer(
        kafka.consumer({
          groupId: group,
          // A consumer that dies is replaced within seconds, not the default half-minute.
          sessionTimeout: 10_000,
          heartbeatInterval: HEARTBEAT_MS,
          rebalanceTimeout: 30_000,
          // A fetch returns once it has `minBytes` or after `maxWaitTimeInMs`: an eager stage
          // takes what is there within 50 ms, a batching one waits to fill bigger batches.
          ...(consumerOptions.batchWaitMs
            ? { minBytes: 1 << 20, maxWaitTimeInMs: consumerOptions.batchWaitMs }
            : { minBytes: 1, maxWaitTimeInMs: 50 }),
          maxBytesPerPartition: 4 << 20,
          allowAutoTopicCreation: false,
        }),
        {
          topic,
          group: consumerOptions.group,
          handleBatch: consumerOptions.handleBatch,
          maxBatchSize: consumerOptions.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
          userTopic: consumerOptions.topic,
          partitions,
          retryMs,
          maxRetryMs,
          onBatchError: options.onBatchError,
          logger,
          onClosed: () => consumers.delete(consumer),
        },
      );
      consumers.add(consumer);
      try {
        await consumer.start();
      } catch (error) {
        await consumer.close();
        throw kafkaError(`joining group ${group}`, error);
      }
      return consumer;
    },

    async committedOffsets(topic: string, group: string): Promise<Map<number, number>> {
      const a = await connectedAdmin();
      const offsets = new Map<number, number>();
      if (!(await topicExists(a, topic))) return offsets;
      const fetched = await a
        .fetchOffsets({ groupId: groupName(group), topics: [topicName(topic)] })
        .catch((error: unknown) => {
          throw kafkaError(`reading offsets of group ${groupName(group)}`, error);
        });
      const perPartition = fetched.flatMap((t) => t.partitions);
      const missing = perPartition.filter((p) => Number(p.offset) < 0);
      if (missing.length === perPartition.length) {
        const [described] = (await a.describeGroups([groupName(group)])).groups;
        if (!described || described.state === 'Dead') return offsets;
      }
      // A member that has not committed on a partition yet reads it from the oldest message kept.
      const low =
        missing.length > 0
          ? new Map(
              (await topicOffsets(a, topicName(topic))).map((o) => [o.partition, Number(o.low)]),
            )
          : new Map<number, number>();
      for (const p of perPartition) {
        const offset = Number(p.offset);
        offsets.set(p.partition, offset >= 0 ? offset : (low.get(p.partition) ?? 0));
      }
      return offsets;
    },

    async endOffsets(topic: string): Promise<Map<number, number>> {
      const a = await connectedAdmin();
      if (!(await topicExists(a, topic))) return new Map();
      try {
        const ends = await topicOffsets(a, topicName(topic));
        return new Map(ends.map((e) => [e.partition, Number(e.high)]));
      } catch (error) {
        throw kafkaError(`reading end offsets of ${topicName(topic)}`, error);
      }
    },

    async close(): Promise<void> {
      await Promise.all([...consumers].map((c) => c.close()));
      // Publishes already taken in are sent (or fail to their callers) before the producer goes.
      const until = Date.now() + CLOSE_FLUSH_MS;
      while ((flushing || outbox.length > 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all([connectedProducer.disconnect(), connectedAdmin.disconnect()]);
    },
  };
}

interface MemberOptions {
  topic: string;
  userTopic: string;
  group: string;
  partitions: number;
  handleBatch: (batch: BusBatch) => Promise<void>;
  maxBatchSize: number;
  retryMs: number;
  maxRetryMs: number;
  onBatchError?: (error: unknown, batch: BusBatch, group: string) => void;
  logger?: Logger;
  onClosed: () => void;
}

/** One group member: hands each fetched batch to the handler in slices and commits after each. */
class KafkaBusConsumer implements BusConsumer {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: MemberOptions,
  ) {}

  async start(): Promise<void> {
    const { consumer, options } = this;
    const offs: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    // Which partitions this member holds after each rebalance: the first thing to look at when
    // replicas of a role seem idle or overloaded.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = payload.memberAssignment[options.topic] ?? [];
      options.logger?.info(
        { group: payload.groupId, topic: options.userTopic, partitions },
        'joined consumer group',
      );
    });
    const joined = new Promise<void>((resolve, reject) => {
      offs.push(consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      offs.push(
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          // kafkajs restarts a consumer after a retriable crash (e.g. a coordinator still
          // loading on a fresh cluster); only a crash it gives up on is final.
          if (!payload.restart) {
            reject(new Error(`consumer crashed before joining: ${String(payload.error)}`));
          }
        }),
      );
      timer = setTimeout(
        () => reject(new Error(`no partitions assigned within ${JOIN_TIMEOUT_MS / 1000} s`)),
        JOIN_TIMEOUT_MS,
      );
    });
    try {
      await this.run();
      await joined;
    } finally {
      clearTimeout(timer);
      for (const off of offs) off();
    }
    // kafkajs gives up on a crash it deems final (an eviction it did not expect, for one), and
    // the process would go on with a member that consumes nothing: join again instead.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.closing) return;
      options.logger?.error(
        { err: payload.error, group: options.group },
        'consumer crashed; joining its group again',
      );
      this.rejoin();
    });
  }

  private async run(): Promise<void> {
    const { consumer, options } = this;
    await consumer.connect();
    // Where a group with no commit starts; `fromBeginning: false` groups were pinned above.
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Partitions run side by side, so one failing partition does not hold back the others.
      partitionsConsumedConcurrently: options.partitions,
      eachBatch: (payload) => this.handle(payload),
    });
  }

  private rejoin(): void {
    if (this.closing) return;
    this.run().catch((error: unknown) => {
      this.options.logger?.error(
        { err: error, group: this.options.group },
        `could not join the group again; retrying in ${REJOIN_RETRY_MS / 1000} s`,
      );
      setTimeout(() => this.rejoin(), REJOIN_RETRY_MS).unref();
    });
  }

  private async handle(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { options, consumer } = this;
    // Set once a heartbeat says the group is rebalancing: this member may no longer own the
    // partition, so it stops retrying and does not commit; the owner after the rebalance
    // redelivers from the last commit.
    let revoked = false;
    const heartbeat = async () => {
      try {
        await payload.heartbeat();
      } catch {
        revoked = true;
      }
    };
    const owned = () => !revoked && payload.isRunning() && !payload.isStale();
    const all: BusMessage[] = batch.messages.map((m) => ({
      topic: options.userTopic,
      partition: batch.partition,
      offset: Number(m.offset),
      key: m.key?.toString('utf8') ?? '',
      value: m.value?.toString('utf8') ?? '',
    }));
    for (let start = 0; start < all.length; start += options.maxBatchSize) {
      const slice: BusBatch = {
        topic: options.userTopic,
        partition: batch.partition,
        messages: all.slice(start, start + options.maxBatchSize),
      };
      let failures = 0;
      for (;;) {
        if (!owned()) return;
        // A slow handler must not look like a dead member: heartbeats go on while it runs.
        const beating = setInterval(() => void heartbeat(), HEARTBEAT_MS);
        try {
          await options.handleBatch(slice);
          break;
        } catch (error) {
          options.onBatchError?.(error, slice, options.group);
          const wait = Math.min(options.maxRetryMs, options.retryMs * 2 ** failures++);
          await sleepWhile(wait, owned, heartbeat);
        } finally {
          clearInterval(beating);
        }
      }
      if (!owned()) return;
      const last = slice.messages.at(-1)!.offset;
      payload.resolveOffset(String(last));
      // Committed synchronously per slice: a crash after this point never re-reads it, and a
      // crash before it re-reads only this slice.
      try {
        await consumer.commitOffsets([
          { topic: options.topic, partition: batch.partition, offset: String(last + 1) },
        ]);
      } catch (error) {
        // Evicted or rebalanced meanwhile: the partition's next owner redelivers the slice, and
        // kafkajs rejoins this member on its next fetch; thrown, it would end the member.
        if (lostMembership(error)) return;
        throw error;
      }
      await heartbeat();
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.consumer.disconnect();
      this.options.onClosed();
    })();
    return this.closing;
  }
}

/** Kafka's answers meaning a member no longer owns its partitions; kafkajs nests them in `cause`. */
const LOST_MEMBERSHIP = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'FENCED_INSTANCE_ID',
]);

function lostMembership(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (LOST_MEMBERSHIP.has((e as { type?: string }).type ?? '')) return true;
  }
  return false;
}

/** Waits `ms`, heartbeating each second, or less once `wanted` turns false. */
async function sleepWhile(
  ms: number,
  wanted: () => boolean,
  heartbeat: () => Promise<void>,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && wanted()) {
    await new Promise((r) => setTimeout(r, Math.min(HEARTBEAT_MS, until - Date.now())));
    await heartbeat();
  }
}

/**
 * The offsets of a topic's partitions. Right after a topic is created a broker can know the topic
 * but not yet its partitions, and kafkajs then fails with a TypeError of its own: asked again.
 */
async function topicOffsets(
  a: Admin,
  topic: string,
): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await a.fetchTopicOffsets(topic);
    } catch (error) {
      if (!(error instanceof TypeError) || attempt >= 10) throw error;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/**
 * A client connected on first use and shared after; a failed connect is forgotten, so the next
 * call tries again rather than repeating the old failure.
 */
function lazyConnection<C extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  label: string,
  create: () => C,
): (() => Promise<C>) & { disconnect(): Promise<void> } {
  let client: Promise<C> | undefined;
  const get = () => {
    client ??= (async () => {
      const c = create();
      await c.connect();
      return c;
    })().catch((error: unknown) => {
      client = undefined;
      throw kafkaError(`connecting ${label}`, error);
    });
    return client;
  };
  const disconnect = async () => {
    const connecting = client;
    client = undefined;
    // A client that never connected has nothing to close.
    await connecting?.then(
      (c) => c.disconnect(),
      () => undefined,
    );
  };
  return Object.assign(get, { disconnect });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function kafkaError(what: string, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`Kafka: ${what} failed: ${reason}`, { cause: error });
}

function logKafka(logger: Logger | undefined, { level, log }: LogEntry): void {
  if (!logger) return;
  const { message, ...fields } = log;
  const entry = { ...fields, component: 'kafkajs' };
  // kafkajs reports every error response of every request ("Response Heartbeat…" during a
  // routine rebalance, say) before retrying it; what still fails after the retries reaches us
  // as a rejected call, so those lines are detail, not errors.
  const perRequest = message.startsWith('Response ');
  // Bounded retries are deliberate: a publish that gives up answers 503, and the sink keeps a
  // resent event once by its id.
  const retriesWarning = message.startsWith('Limiting retries for the idempotent producer');
  if (perRequest || retriesWarning) logger.debug(entry, message);
  else if (level <= KafkaLogLevel.ERROR) logger.error(entry, message);
  else if (level === KafkaLogLevel.WARN) logger.warn(entry, message);
  else logger.debug(entry, message);
}
