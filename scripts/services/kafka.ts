// Kafka in KRaft mode from Maven Central: the broker's jars plus a log4j backend, resolved once
// into a classpath folder, then each node runs as a combined broker+controller on 127.0.0.1.
// `kafkaCluster` also serves the fault tests, which start their own cluster on spare ports.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { savedClusterId } from './kafka-cluster-id.ts';
import { resolveClasspath } from './maven.ts';
import {
  alive,
  listening,
  run,
  serviceDir,
  spawnDetached,
  stopPid,
  waitUntil,
  type Service,
} from './service.ts';

export const KAFKA_VERSION = '4.1.1';
const LOG4J_VERSION = '2.24.3';
const STARTED = 'Kafka Server started';

/** The folder of jars every node runs from; fetched with Maven on first use. */
export function kafkaClasspath(): string {
  const dir = join(serviceDir('kafka'), `lib-${KAFKA_VERSION}`);
  const log4j = (artifactId: string) => ({
    groupId: 'org.apache.logging.log4j',
    artifactId,
    version: LOG4J_VERSION,
  });
  resolveClasspath(
    'kafka',
    [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: KAFKA_VERSION },
      // Kafka 4.1 logs through slf4j 1.x, so the binding is log4j-slf4j-impl, not -slf4j2-.
      log4j('log4j-slf4j-impl'),
      log4j('log4j-core'),
      log4j('log4j-api'),
    ],
    dir,
  );
  return dir;
}

export interface KafkaNode {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  pidFile: string;
  logFile: string;
}

export interface KafkaClusterOptions {
  /** Holds each node's config, data and log. */
  dir: string;
  /** 1 (default) or more nodes, each a broker and a voter. */
  nodes?: number;
  /** Client port of node 1; node n listens on basePort + 2(n-1), its controller one above. */
  basePort: number;
  /** Default partitions of a topic created without a count. */
  partitions?: number;
  heapMb?: number;
  /** Told of recovery steps, such as a replaced cluster id. Default: stdout, like `services`. */
  log?: (line: string) => void;
}

export interface KafkaCluster {
  nodes: readonly KafkaNode[];
  /** `host:port` of every node, for LOUPE_KAFKA_BROKERS. */
  brokers: string[];
  /** Formats storage once, then launches every node not already running. */
  start(): Promise<void>;
  /** Launches one node (after a kill) on its existing storage. */
  startNode(id: number): void;
  /** Resolves once every node has logged that it started and listens. */
  ready(timeoutMs: number): Promise<void>;
  /** Kills one node the hard way (SIGKILL), as a crash would. */
  kill(id: number): void;
  /** Stops every node gracefully. */
  stop(): Promise<void>;
}

export function kafkaCluster(options: KafkaClusterOptions): KafkaCluster {
  const count = options.nodes ?? 1;
  const log = options.log ?? ((line: string) => console.log(line));
  const replication = Math.min(3, count);
  const nodes: KafkaNode[] = Array.from({ length: count }, (_, i) => {
    const dir = join(options.dir, `node-${i + 1}`);
    return {
      id: i + 1,
      port: options.basePort + 2 * i,
      controllerPort: options.basePort + 2 * i + 1,
      dir,
      pidFile: join(dir, 'kafka.pid'),
      logFile: join(dir, 'kafka.log'),
    };
  });
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  const node = (id: number) => {
    const found = nodes.find((n) => n.id === id);
    if (!found) throw new Error(`no Kafka node ${id}`);
    return found;
  };

  const writeConfig = (n: KafkaNode) => {
    mkdirSync(n.dir, { recursive: true });
    const properties = {
      'process.roles': 'broker,controller',
      'node.id': n.id,
      'controller.quorum.voters': voters,
      listeners: `PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${n.port}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': join(n.dir, 'data'),
      'num.partitions': options.partitions ?? 8,
      'default.replication.factor': replication,
      'min.insync.replicas': Math.max(1, replication - 1),
      'offsets.topic.replication.factor': replication,
      'transaction.state.log.replication.factor': replication,
      'transaction.state.log.min.isr': Math.max(1, replication - 1),
      'share.coordinator.state.topic.replication.factor': replication,
      'share.coordinator.state.topic.min.isr': Math.max(1, replication - 1),
      // Topics are created by the bus adapter with their partition count, never by a typo.
      'auto.create.topics.enable': false,
      // A test's consumer group should not wait three seconds for company that never comes.
      'group.initial.rebalance.delay.ms': 0,
    };
    writeFileSync(
      join(n.dir, 'server.properties'),
      Object.entries(properties)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );
    writeFileSync(
      join(n.dir, 'log4j2.properties'),
      [
        'appender.out.type = Console',
        'appender.out.name = OUT',
        'appender.out.layout.type = PatternLayout',
        'appender.out.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = INFO',
        'rootLogger.appenderRef.out.ref = OUT',
        // The controller's per-change chatter drowns what matters when a start fails.
        'logger.state.name = state.change.logger',
        'logger.state.level = WARN',
        '',
      ].join('\n'),
    );
  };

  const java = (classpath: string, n: KafkaNode, main: string, args: string[]) => [
    `-Xms${options.heapMb ?? 512}m`,
    `-Xmx${options.heapMb ?? 512}m`,
    `-Dlog4j2.configurationFile=${join(n.dir, 'log4j2.properties')}`,
    '-cp',
    `${classpath}/*`,
    main,
    ...args,
  ];

  const startNode = (id: number) => {
    const n = node(id);
    if (existsSync(n.pidFile) && alive(Number(readFileSync(n.pidFile, 'utf8')))) return;
    // A fresh log per start, so readiness means this start, not an earlier one.
    if (existsSync(n.logFile)) renameSync(n.logFile, `${n.logFile}.previous`);
    spawnDetached(
      'java',
      java(kafkaClasspath(), n, 'kafka.Kafka', [join(n.dir, 'server.properties')]),
      { logFile: n.logFile, pidFile: n.pidFile },
    );
  };

  return {
    nodes,
    brokers: nodes.map((n) => `127.0.0.1:${n.port}`),
    async start() {
      const classpath = kafkaClasspath();
      mkdirSync(options.dir, { recursive: true });
      for (const n of nodes) writeConfig(n);
      const unformatted = nodes.filter((n) => !existsSync(join(n.dir, 'data', 'meta.properties')));
      if (unformatted.length > 0) {
        const idFile = join(options.dir, 'cluster-id');
        // Nodes formatted already carry the saved id; only a cluster with none may get a new one.
        const clusterId =
          unformatted.length === nodes.length
            ? savedClusterId(idFile, log)
            : readFileSync(idFile, 'utf8').trim();
        for (const n of unformatted) {
          // `--option=value` binds the value, so an id starting with '-' is not read as a flag.
          const args = [
            'format',
            `--cluster-id=${clusterId}`,
            `--config=${join(n.dir, 'server.properties')}`,
          ];
          run('java', java(classpath, n, 'kafka.tools.StorageTool', args), {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
        }
      }
      for (const n of nodes) startNode(n.id);
    },
    startNode,
    async ready(timeoutMs) {
      for (const n of nodes) {
        await waitUntil(
          async () =>
            existsSync(n.logFile) &&
            readFileSync(n.logFile, 'utf8').includes(STARTED) &&
            (await listening(n.port)),
          timeoutMs,
          () => `Kafka node ${n.id} did not start on 127.0.0.1:${n.port} (log: ${n.logFile})`,
        );
      }
    },
    kill(id) {
      const n = node(id);
      const pid = Number(readFileSync(n.pidFile, 'utf8'));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    },
    async stop() {
      await Promise.all(nodes.map((n) => stopPid(n.pidFile, 30_000)));
    },
  };
}

/**
 * `npm run services -- up kafka`: one node on 127.0.0.1:9092 (controller on 9093). With
 * `--kafka-nodes 3`, a cluster of three on 9092, 9094 and 9096 (replication factor 3) for
 * fault tests; its data lives apart from the single node's.
 */
export function kafkaService(nodes = 1): Service {
  const cluster = kafkaCluster({
    dir: join(serviceDir('kafka'), nodes === 1 ? 'cluster' : `cluster-${nodes}`),
    basePort: 9092,
    nodes,
  });
  const first = cluster.nodes[0]!;
  const started = (n: KafkaNode) =>
    existsSync(n.logFile) && readFileSync(n.logFile, 'utf8').includes(STARTED);
  return {
    name: 'kafka',
    port: first.port,
    readyTimeoutMs: 90_000,
    logFile: first.logFile,
    async install() {
      kafkaClasspath();
    },
    start: () => cluster.start(),
    async ready() {
      for (const n of cluster.nodes) if (!started(n) || !(await listening(n.port))) return false;
      return true;
    },
    stop: () => cluster.stop(),
  };
}
