// `npm start`: every service in one process on the embedded stores, with demo data and a trickle
// of live demo traffic. `npm start -- --service metrics` runs only the named service(s).
// First: graphql-js and Apollo read NODE_ENV as they load.
import '../lib/production-mode.ts';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  loadConfig,
  PIPELINE_ROLES,
  SERVICES,
  type ServiceName,
} from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { demoGraphQL, ensureDemoBenchmarking } from './demo/demo-benchmarking.ts';
import { startDemoPlatforms, type DemoPlatforms } from './demo/demo-connectors.ts';
import { demoTraffic, generateDemoHistory } from './demo/demo-data.ts';
import { runCommand } from './run-command.ts';
import { startLoupe } from './runtime.ts';

const DEMO_SEED = 42;

function parseServices(values: string[] | undefined): ServiceName[] | undefined {
  if (!values?.length) return undefined;
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    // `pipeline` names every consumer role at once.
    .flatMap((v) => (v === 'pipeline' ? PIPELINE_ROLES : [v]));
  for (const name of names) {
    if (!(SERVICES as readonly string[]).includes(name)) {
      throw new ConfigError(
        `unknown service "${name}"; choose from ${SERVICES.join(', ')} or pipeline`,
      );
    }
  }
  return [...new Set(names)] as ServiceName[];
}

async function postEvents(ingestUrl: string, apiKey: string, events: readonly EventInput[]) {
  const res = await fetch(`${ingestUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ events }),
  });
  if (!res.ok) throw new Error(`demo batch refused: ${res.status} ${await res.text()}`);
}

/** Sends 90 days of demo history through the collector, like any producer would. */
async function loadDemoHistory(
  ingest: string,
  apiKey: string,
  caughtUp: (timeoutMs: number) => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const history = generateDemoHistory({ now: Date.now(), seed: DEMO_SEED });
  let sent = 0;
  let reported = 0;
  for (const chunk of history.batches) {
    const posts: Promise<void>[] = [];
    // 1,000 events per request is the collector's batch limit.
    for (let i = 0; i < chunk.length; i += 1000) {
      posts.push(postEvents(ingest, apiKey, chunk.slice(i, i + 1000)));
    }
    await Promise.all(posts);
    sent += chunk.length;
    if (sent - reported >= 50_000) {
      reported = sent;
      console.log(`demo history: ${sent} events sent`);
    }
  }
  await caughtUp(300_000);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `demo history loaded: ${sent} events for ${history.accounts.length} accounts in ${seconds} s`,
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  const { values } = parseArgs({ options: { service: { type: 'string', multiple: true } } });
  const services = parseServices(values.service);
  let config = loadConfig();
  let platforms: DemoPlatforms | undefined;
  if (config.demo.load && config.demo.source === 'connectors') {
    if (services) {
      throw new ConfigError(
        'LOUPE_DEMO_SOURCE=connectors runs every service in one process: drop --service',
      );
    }
    // The fakes first: their URLs and app secrets are the connectors' configuration. The data of
    // this demo is kept apart from the posted demo's, which has other posts for the same accounts.
    platforms = await startDemoPlatforms();
    config = loadConfig({
      LOUPE_DATA_DIR: '.loupe/data-connectors',
      ...process.env,
      ...platforms.env,
    });
  }
  const logger = createLogger(config.logLevel);
  const loupe = await startLoupe(config, { services, logger });

  const ingest = loupe.urls.ingest;
  const loadHistory =
    !platforms &&
    config.demo.load &&
    ingest !== undefined &&
    !(await loupe.hasData(config.demo.apiKey));
  const lines = [
    '',
    `Loupe is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    loupe.urls.gateway && `  GraphQL (queries + subscriptions): ${loupe.urls.gateway}`,
    ingest && `  Event collector:                   ${ingest}/v1/events`,
    ...Object.entries(loupe.urls.subgraphs).map(
      ([name, url]) => `  subgraph ${name.padEnd(13)}            ${url}`,
    ),
    `  Demo API key (x-api-key):          ${config.demo.apiKey}`,
    loadHistory && '  Demo history (90 days) is loading in the background; progress below.',
    platforms &&
      '  Demo data arrives through the four connectors, polling local fakes of the platforms:',
    platforms && `    Facebook and Instagram (Graph API) ${platforms.urls.meta}`,
    platforms && `    X API v2                           ${platforms.urls.x}`,
    platforms && `    TikTok API v2                      ${platforms.urls.tiktok}`,
    platforms &&
      `  Each account is polled every ${config.connectors.pollSeconds.realtime} s; comments arrive by signed webhook.`,
    platforms &&
      `  Watch them: curl -s ${loupe.urls.gateway} -H 'content-type: application/json' -H 'x-api-key: ${config.demo.apiKey}' \\
` +
        `    -d '{"query":"{ connections { account { id } platform state polls lastPollAt nextPollAt lastError } }"}'`,
    '',
  ].filter(Boolean);
  console.log(lines.join('\n'));

  if (platforms && loupe.urls.gateway && ingest) {
    await platforms.connect(loupe.urls.gateway, config.demo.apiKey);
    platforms.animate(ingest, (error) =>
      logger.warn({ err: error }, 'demo platform activity failed'),
    );
  }

  let traffic: NodeJS.Timeout | undefined;
  if (!platforms && config.demo.load && config.demo.traffic && ingest) {
    const next = demoTraffic(DEMO_SEED);
    traffic = setInterval(() => {
      postEvents(ingest, config.demo.apiKey, next(Date.now())).catch((error: unknown) =>
        logger.warn({ err: error }, 'demo traffic batch failed'),
      );
    }, 1000);
  }
  // The demo's competitor set and weekly report, made through the API once its accounts are tracked.
  const gateway = loupe.urls.gateway;
  const demoBenchmarking = async () => {
    if (!platforms && config.demo.load && gateway) {
      await ensureDemoBenchmarking(demoGraphQL(gateway, config.demo.apiKey));
    }
  };
  const benchmarkingFailed = (error: unknown) =>
    logger.warn({ err: error }, 'the demo competitor set or report could not be made');
  if (loadHistory && ingest) {
    // Served while it loads: the first start answers at once and fills in as history arrives.
    loadDemoHistory(ingest, config.demo.apiKey, (ms) => loupe.caughtUp(ms))
      .then(demoBenchmarking, (error: unknown) =>
        logger.error({ err: error }, 'demo history failed to load'),
      )
      .catch(benchmarkingFailed);
  } else {
    demoBenchmarking().catch(benchmarkingFailed);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(traffic);
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.serving.shutdownGraceMs);
    timer.unref();
    const stoppingAt = Date.now();
    loupe
      .close()
      .then(() => platforms?.close())
      .then(
        () => {
          logger.info({ ms: Date.now() - stoppingAt }, 'stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

runCommand(main);
