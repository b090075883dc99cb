// `npm start`: every service in one process on the embedded stores, with demo data and a trickle
// of live demo traffic. `npm start -- --service metrics` runs only the named service(s).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, SERVICES, type ServiceName } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import type { EventInput } from '../schema/event-envelope.ts';
import { demoTraffic, generateDemoHistory } from './demo/demo-data.ts';
import { startLoupe } from './runtime.ts';

const DEMO_SEED = 42;
const SHUTDOWN_GRACE_MS = 10_000;

function parseServices(values: string[] | undefined): ServiceName[] | undefined {
  if (!values?.length) return undefined;
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  for (const name of names) {
    if (!(SERVICES as readonly string[]).includes(name)) {
      throw new ConfigError(`unknown service "${name}"; choose from ${SERVICES.join(', ')}`);
    }
  }
  return names as ServiceName[];
}

async function postEvents(ingestUrl: string, apiKey: string, events: readonly EventInput[]) {
  const res = await fetch(`${ingestUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ events }),
  });
  if (!res.ok) throw new Error(`demo batch refused: ${res.status} ${await res.text()}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const { values } = parseArgs({ options: { service: { type: 'string', multiple: true } } });
  const config = loadConfig();
  const services = parseServices(values.service);
  const logger = createLogger(config.logLevel);
  const loupe = await startLoupe(config, { services, logger });

  let traffic: NodeJS.Timeout | undefined;
  const ingest = loupe.urls.ingest;
  if (config.demo.load && ingest) {
    if (await loupe.hasData(config.demo.apiKey)) {
      logger.info('demo data already present; not loading it again');
    } else {
      const history = generateDemoHistory({ now: Date.now(), seed: DEMO_SEED });
      let sent = 0;
      // Through the collector, like any producer; 1,000 per request is its batch limit.
      for (const chunk of history.batches) {
        const posts: Promise<void>[] = [];
        for (let i = 0; i < chunk.length; i += 1000) {
          posts.push(postEvents(ingest, config.demo.apiKey, chunk.slice(i, i + 1000)));
        }
        await Promise.all(posts);
        sent += chunk.length;
        process.stdout.write(`\rloading demo data: ${sent} events`);
      }
      await loupe.caughtUp(120_000);
      process.stdout.write(
        `\rloaded demo data: ${sent} events for ${history.accounts.length} accounts\n`,
      );
    }
    if (config.demo.traffic) {
      const next = demoTraffic(DEMO_SEED);
      traffic = setInterval(() => {
        postEvents(ingest, config.demo.apiKey, next(Date.now())).catch((error: unknown) =>
          logger.warn({ err: error }, 'demo traffic batch failed'),
        );
      }, 1000);
    }
  }

  const lines = [
    '',
    `Loupe is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    loupe.urls.gateway && `  GraphQL (queries + subscriptions): ${loupe.urls.gateway}`,
    ingest && `  Event collector:                   ${ingest}/v1/events`,
    ...Object.entries(loupe.urls.subgraphs).map(
      ([name, url]) => `  subgraph ${name.padEnd(13)}            ${url}`,
    ),
    `  Demo API key (x-api-key):          ${config.demo.apiKey}`,
    '',
  ].filter(Boolean);
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(traffic);
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    loupe.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
