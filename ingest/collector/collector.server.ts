// POST /v1/events: the HTTP door for apps and SDKs. Authenticates the organisation by API key,
// validates each event on its own, and answers only once the accepted events are on the bus.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_KEY_HEADER, ingestRefusal, type Authenticator } from '../../lib/auth/caller.ts';
import type { Bus, OutgoingMessage } from '../../lib/bus/bus.port.ts';
import { defaultLimits, EVENT_TIME_WINDOW, type ServerLimits } from '../../lib/config.ts';
import { createHttpDoor } from '../../lib/graphql/http-door.ts';
import type { Logger } from '../../lib/logger.ts';
import { collectorEvents } from '../../lib/observability/metrics.ts';
import { serveOpsRoute, type Readiness } from '../../lib/observability/ops-routes.ts';
import { isRefusedValue } from '../../lib/meta/accounts.repo.ts';
import {
  checkEventTime,
  describeIssues,
  eventInputSchema,
  serializeEnvelope,
  type EventInput,
  type EventTimeWindow,
} from '../../schema/event-envelope.ts';
import { EVENTS_TOPIC, partitionKey } from '../pipeline/topics.ts';
import { settleAppEventTime } from './app-event-time.ts';

export const MAX_EVENTS_PER_BATCH = 1000;
export const MAX_BODY_BYTES = 1024 * 1024;

export type EventResult =
  | { index: number; id: string; status: 'accepted'; warnings?: string[] }
  | { index: number; status: 'rejected'; reason: string };

export interface CollectorResponse {
  accepted: number;
  rejected: number;
  results: EventResult[];
}

/**
 * Called with the accounts of each accepted batch, before it is acknowledged. A failure the meta
 * store reports as a refused value (`isRefusedValue`) rejects the events of that account only;
 * any other failure fails the batch with a 503.
 */
export type AccountsSeen = (
  orgId: string,
  accounts: ReadonlyMap<string, EventInput['platform']>,
) => Promise<void>;

export interface CollectorDeps {
  bus: Bus;
  authenticate: Authenticator;
  onAccounts?: AccountsSeen;
  logger?: Logger;
  now?: () => number;
  /** How late or early an event may be; defaults to `EVENT_TIME_WINDOW`. */
  eventTime?: EventTimeWindow;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createCollectorHandler(deps: CollectorDeps) {
  const { bus, authenticate, onAccounts, logger, now = Date.now } = deps;
  const { eventTime = EVENT_TIME_WINDOW } = deps;

  /**
   * Records the batch's accounts; returns why the meta store refused those it refused. When the
   * whole batch is refused, each account is tried alone so that one bad value fails only its own.
   */
  async function recordAccounts(
    orgId: string,
    accounts: ReadonlyMap<string, EventInput['platform']>,
  ): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    if (!onAccounts || accounts.size === 0) return refused;
    try {
      await onAccounts(orgId, accounts);
      return refused;
    } catch (error) {
      if (!isRefusedValue(error)) throw error;
    }
    for (const [id, platform] of accounts) {
      try {
        await onAccounts(orgId, new Map([[id, platform]]));
      } catch (error) {
        if (!isRefusedValue(error)) throw error;
        refused.set(id, error instanceof Error ? error.message : String(error));
      }
    }
    return refused;
  }

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/v1/events')
      throw new HttpError(404, `no route ${path}; events go to POST /v1/events`);
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const key = req.headers[API_KEY_HEADER];
    if (typeof key !== 'string' || key.length === 0) {
      throw new HttpError(401, `missing ${API_KEY_HEADER} header`);
    }
    const caller = await authenticate(key);
    if (!caller) throw new HttpError(401, 'unknown or revoked API key');
    const refusal = ingestRefusal(caller);
    if (refusal) throw new HttpError(403, refusal);
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/json')) {
      throw new HttpError(415, 'content-type must be application/json');
    }
    const events = parseBatch(await readBody(req));

    const receivedAt = now();
    // Every event is judged on its own before any store is touched.
    const results: EventResult[] = [];
    const candidates: { index: number; event: EventInput; message: OutgoingMessage }[] = [];
    const accounts = new Map<string, EventInput['platform']>();
    events.forEach((raw, index) => {
      const parsed = eventInputSchema.safeParse(raw);
      if (!parsed.success) {
        results.push({ index, status: 'rejected', reason: describeIssues(parsed.error) });
        return;
      }
      const { event, warning } = settleAppEventTime(parsed.data, receivedAt, eventTime);
      const late = checkEventTime(event, receivedAt, eventTime);
      const serialized = late
        ? undefined
        : serializeEnvelope({ orgId: caller.orgId, receivedAt, event });
      if (!serialized?.ok) {
        results.push({ index, status: 'rejected', reason: late ?? serialized!.reason });
        return;
      }
      results.push({
        index,
        id: event.id,
        status: 'accepted',
        ...(warning !== undefined && { warnings: [warning] }),
      });
      const key = partitionKey(caller.orgId, event.accountId);
      candidates.push({ index, event, message: { key, value: serialized.value } });
      accounts.set(event.accountId, event.platform);
    });

    const messages: OutgoingMessage[] = [];
    if (candidates.length > 0) {
      try {
        const refused = await recordAccounts(caller.orgId, accounts);
        for (const { index, event, message } of candidates) {
          const why = refused.get(event.accountId);
          if (why === undefined) messages.push(message);
          else
            results[index] = {
              index,
              status: 'rejected',
              reason: `accountId: refused by the meta store: ${why}`,
            };
        }
        if (refused.size > 0)
          logger?.warn({ refused: refused.size }, 'meta store refused accounts');
        if (messages.length > 0) await bus.publish(EVENTS_TOPIC, messages);
      } catch (error) {
        logger?.error({ err: error }, 'publish failed');
        throw new HttpError(
          503,
          'events could not be stored; nothing was accepted, retry the batch',
        );
      }
    }
    collectorEvents.inc({ result: 'accepted' }, messages.length);
    collectorEvents.inc({ result: 'rejected' }, events.length - messages.length);
    const response: CollectorResponse = {
      accepted: messages.length,
      rejected: events.length - messages.length,
      results,
    };
    // 422 only when nothing in a non-empty batch was usable, so clients notice a broken producer.
    return { status: messages.length === 0 && events.length > 0 ? 422 : 200, body: response };
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let status: number;
    let body: unknown;
    try {
      ({ status, body } = await handle(req));
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        body = { error: error.message };
      } else {
        logger?.error({ err: error }, 'collector failure');
        status = 500;
        body = { error: 'internal error' };
      }
      // Unread bodies would otherwise stall keep-alive connections.
      req.resume();
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

function parseBatch(text: string): unknown[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
  const events =
    json !== null && typeof json === 'object' && 'events' in json ? json.events : undefined;
  if (!Array.isArray(events)) {
    throw new HttpError(400, 'body must be an object with an "events" array');
  }
  if (events.length > MAX_EVENTS_PER_BATCH) {
    throw new HttpError(
      413,
      `at most ${MAX_EVENTS_PER_BATCH} events per batch, got ${events.length}`,
    );
  }
  return events as unknown[];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'body exceeds 1 MiB');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body exceeds 1 MiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ServedCollector {
  url: string;
  server: Server;
  /** Stops accepting, lets batches in flight reach the bus until `until` (epoch ms), then stops. */
  close(until?: number): Promise<void>;
}

/** Other ingest routes served on the same door (the webhook receivers): true when answered. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export async function serveCollector(
  deps: CollectorDeps & {
    host: string;
    port: number;
    limits?: ServerLimits;
    ready?: Readiness;
    routes?: ExtraRoutes;
  },
): Promise<ServedCollector> {
  const collect = createCollectorHandler(deps);
  const { routes } = deps;
  const handler = routes
    ? async (req: IncomingMessage, res: ServerResponse) => {
        if (!(await routes(req, res))) await collect(req, res);
      }
    : collect;
  const server = createServer();
  // Bounded batches in flight, 503 with Retry-After beyond; a publish once begun is waited for.
  const door = createHttpDoor(server, deps.limits ?? defaultLimits('ingest'), (res, _, message) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: message }));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // Health, readiness and metrics answer outside the admission queue, even at capacity.
    void serveOpsRoute(req, res, { draining: door.draining, ready: deps.ready }).then(
      async (served) => {
        if (!served) await door.serve(req, res, () => handler(req, res));
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${deps.host}:${port}`,
    server,
    close: (until) => door.close(until),
  };
}
