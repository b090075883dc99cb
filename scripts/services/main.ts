// `npm run services -- up|down|status [name…]`: the real servers server mode and its tests need,
// on 127.0.0.1. A server already listening is reused; a missing one is installed or fetched
// (cached), started, and recorded, so `down` stops only what `up` started. State, data and logs
// live under `.loupe/services/`.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { ensureChromium, ensurePoppler, postgresService, redisService } from './debian.ts';
import { elasticsearchService } from './elasticsearch.ts';
import { kafkaService } from './kafka.ts';
import {
  listening,
  logTail,
  STATE_DIR,
  startedMarker,
  waitUntil,
  type Service,
} from './service.ts';

function kafkaNodes(args: readonly string[]): number {
  const at = args.findIndex((a) => a === '--kafka-nodes' || a.startsWith('--kafka-nodes='));
  if (at < 0) return 1;
  const raw = args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) {
    throw new Error(`--kafka-nodes takes 1 to 5, got ${String(raw)}`);
  }
  return n;
}

async function isReady(service: Service): Promise<boolean> {
  // A health probe that cannot connect means "not ready", not a failed command.
  return service.ready ? service.ready().catch(() => false) : listening(service.port);
}

async function up(service: Service): Promise<void> {
  if (await listening(service.port)) {
    console.log(`${service.name}: already listening on 127.0.0.1:${service.port}, reusing it`);
    return;
  }
  await service.install();
  console.log(`${service.name}: starting on 127.0.0.1:${service.port} …`);
  await service.start();
  writeFileSync(startedMarker(service.name), new Date().toISOString());
  const started = Date.now();
  await waitUntil(
    () => isReady(service),
    service.readyTimeoutMs,
    () =>
      `${service.name} was started but not ready on 127.0.0.1:${service.port} within ` +
      `${service.readyTimeoutMs / 1000} s${logTail(service.logFile)}`,
  );
  console.log(`${service.name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function down(service: Service): Promise<void> {
  if (!existsSync(startedMarker(service.name))) {
    console.log(`${service.name}: not started by this script, left alone`);
    return;
  }
  await service.stop();
  rmSync(startedMarker(service.name));
  console.log(`${service.name}: stopped`);
}

async function status(service: Service): Promise<void> {
  const state = (await isReady(service))
    ? 'ready'
    : (await listening(service.port))
      ? 'starting'
      : 'down';
  const ours = existsSync(startedMarker(service.name)) ? ' (started by this script)' : '';
  console.log(`${service.name}: ${state} on 127.0.0.1:${service.port}${ours}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const nodes = kafkaNodes(args);
  const [command = 'status', ...asked] = args.filter(
    (a, i) => !a.startsWith('--kafka-nodes') && args[i - 1] !== '--kafka-nodes',
  );
  const actions: Record<string, (s: Service) => Promise<void>> = { up, down, status };
  const action = actions[command];
  mkdirSync(STATE_DIR, { recursive: true });
  const services = [postgresService(), redisService(), elasticsearchService(), kafkaService(nodes)];
  // Chromium and poppler are no servers: `up` installs them when missing (tests drive them).
  const wantsChromium = asked.length === 0 || asked.includes('chromium');
  const names = asked.filter((n) => n !== 'chromium');
  const unknown = names.filter((n) => !services.some((s) => s.name === n));
  if (!action || unknown.length > 0) {
    console.error(
      `usage: npm run services -- up|down|status [${[...services.map((s) => s.name), 'chromium'].join('|')} …] [--kafka-nodes N]` +
        (unknown.length > 0 ? `\nunknown service: ${unknown.join(', ')}` : ''),
    );
    process.exit(2);
  }
  if (command === 'up' && wantsChromium) {
    ensureChromium();
    ensurePoppler();
  }
  if (asked.length > 0 && names.length === 0) return; // only chromium was asked for
  const chosen = names.length > 0 ? services.filter((s) => names.includes(s.name)) : services;
  // `down` goes in reverse, so a server is stopped after those that may depend on it.
  for (const service of command === 'down' ? [...chosen].reverse() : chosen) await action(service);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
