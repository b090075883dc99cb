// The webhook door: `/webhooks/meta`, `/webhooks/x` and `/webhooks/tiktok`, mounted beside the
// collector. A delivery is verified on its raw bytes before anything reads it, its events are
// filed under every connection of the platform account, and the platform gets its 2xx only once
// they are durable on the bus: a failure answers 503 so the platform delivers again, and
// content-derived event ids let the pipeline drop the repeat.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { Bus } from '../../lib/bus/bus.port.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import type { SocialPlatform } from '../connectors/ids.ts';
import { publishEvents } from '../publish-events.ts';
import {
  answerMetaCheck,
  META_SIGNATURE_HEADER,
  readMetaDelivery,
  verifyMetaDelivery,
} from './meta.webhook.ts';
import { readRawBody } from './raw-body.ts';
import type { AccountRef, CheckAnswer, Normalised, Reading, Verification } from './receiver.ts';
import {
  DEFAULT_TIKTOK_TOLERANCE_MS,
  readTiktokDelivery,
  TIKTOK_SIGNATURE_HEADER,
  verifyTiktokDelivery,
} from './tiktok.webhook.ts';
import { answerXCheck, readXDelivery, verifyXDelivery, X_SIGNATURE_HEADER } from './x.webhook.ts';

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

export interface Connection {
  orgId: string;
  accountId: string;
}

export interface WebhookDeps {
  bus: Bus;
  /** The connections that a platform account belongs to (several organisations may connect one account). */
  resolve: (platform: SocialPlatform, platformAccountId: string) => Promise<Connection[]>;
  /** The platform says this account's grant is gone (TikTok authorization.removed, X revoke). */
  onRevoked?: (
    platform: SocialPlatform,
    platformAccountId: string,
    reason: string,
  ) => Promise<void>;
  /** Something new happened that a poll should pick up soon (e.g. TikTok video.publish.completed). */
  onActivity?: (platform: SocialPlatform, platformAccountId: string) => Promise<void>;
  secrets: {
    metaAppSecret?: string;
    metaVerifyToken?: string;
    xConsumerSecret?: string;
    tiktokClientSecret?: string;
  };
  /** How far a TikTok signature's time may be from ours: TikTok gives no figure. Default 5 min. */
  tiktokToleranceMs?: number;
  /** Largest body read; beyond it, 413. Default 1 MiB. */
  maxBodyBytes?: number;
  now?: () => number;
  logger?: Logger;
}

/** The answer to an accepted delivery: what became of it, in counts. */
export interface DeliveryAnswer {
  published: number;
  /** Events the envelope refused: a normaliser bug, logged; a retry would not help. */
  refused: number;
  skipped: number;
  /** Platform accounts no organisation has connected: acknowledged so the platform stops. */
  unknownAccounts: number;
  revoked: number;
  activity: number;
}

interface Route {
  name: string;
  /** Why the route cannot serve, when its secret is not configured. */
  missing?: string;
  check?: (query: URLSearchParams) => CheckAnswer | string;
  verify: (req: IncomingMessage, raw: Buffer, now: number) => Verification;
  read: (json: unknown, receivedAt: number) => Reading;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function routesOf(deps: WebhookDeps): Map<string, Route> {
  const { metaAppSecret, metaVerifyToken, xConsumerSecret, tiktokClientSecret } = deps.secrets;
  const { tiktokToleranceMs = DEFAULT_TIKTOK_TOLERANCE_MS } = deps;
  const unset = (name: string, secret: string | undefined) =>
    secret ? undefined : `${name} webhooks are not configured`;
  return new Map<string, Route>([
    [
      '/webhooks/meta',
      {
        name: 'Meta',
        missing: unset('Meta', metaAppSecret),
        check: (query) =>
          metaVerifyToken
            ? answerMetaCheck(query, metaVerifyToken)
            : 'the Meta verify token is not configured',
        verify: (req, raw) =>
          verifyMetaDelivery(header(req, META_SIGNATURE_HEADER), raw, metaAppSecret!),
        read: readMetaDelivery,
      },
    ],
    [
      '/webhooks/x',
      {
        name: 'X',
        missing: unset('X', xConsumerSecret),
        check: (query) => answerXCheck(query, xConsumerSecret!),
        verify: (req, raw) =>
          verifyXDelivery(header(req, X_SIGNATURE_HEADER), raw, xConsumerSecret!),
        read: readXDelivery,
      },
    ],
    [
      '/webhooks/tiktok',
      {
        name: 'TikTok',
        missing: unset('TikTok', tiktokClientSecret),
        verify: (req, raw, now) =>
          verifyTiktokDelivery(
            header(req, TIKTOK_SIGNATURE_HEADER),
            raw,
            tiktokClientSecret!,
            now,
            tiktokToleranceMs,
          ),
        read: (json) => readTiktokDelivery(json),
      },
    ],
  ]);
}

export function createWebhookHandler(deps: WebhookDeps) {
  const { now = Date.now, maxBodyBytes = MAX_WEBHOOK_BODY_BYTES } = deps;
  const { logger = pino({ level: 'silent' }) } = deps;
  const routes = routesOf(deps);
  const settle = createSettler(deps, logger);

  async function deliver(route: Route, req: IncomingMessage): Promise<DeliveryAnswer> {
    const body = await readRawBody(req, maxBodyBytes);
    if (!body.ok) throw new HttpError(413, body.reason);
    const receivedAt = now();
    const verdict = route.verify(req, body.raw, receivedAt);
    if (!verdict.ok) {
      logger.warn({ webhook: route.name, status: verdict.status }, verdict.reason);
      throw new HttpError(verdict.status, verdict.reason);
    }
    let json: unknown;
    try {
      json = JSON.parse(body.raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not valid JSON');
    }
    const reading = route.read(json, receivedAt);
    if (!reading.ok) throw new HttpError(400, reading.reason);
    return settle(route.name, reading.normalised, receivedAt);
  }

  async function answer(route: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (route.missing) throw new HttpError(404, route.missing);
    if (req.method === 'GET' && route.check) {
      const check = route.check(new URL(req.url ?? '/', 'http://localhost').searchParams);
      if (typeof check === 'string') throw new HttpError(404, check);
      res.writeHead(check.status, {
        'content-type': check.contentType,
        'x-content-type-options': 'nosniff',
      });
      res.end(check.body);
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', route.check ? 'GET, POST' : 'POST');
      throw new HttpError(405, `use POST${route.check ? ' (or GET for the check)' : ''}`);
    }
    const result = await deliver(route, req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(result));
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const route = routes.get(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!route) return false;
    try {
      await answer(route, req, res);
    } catch (error) {
      const known = error instanceof HttpError;
      if (!known) logger.error({ err: error, webhook: route.name }, 'webhook failure');
      // An unread or half-read body must not be taken for the next request on this connection.
      if (!req.complete) res.setHeader('connection', 'close');
      res.writeHead(known ? error.status : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: known ? error.message : 'internal error' }));
    }
    return true;
  };
}

const keyOf = (ref: AccountRef) => `${ref.platform}\u0000${ref.platformAccountId}`;

/** Files a delivery's events under their connections, publishes them, passes the signals on. */
/**
 * A connected account's counters come from its polls, as lifetime totals, and a post's lifetime is
 * its deltas plus its latest total: a webhook's +1 beside them would count the same like twice
 * once the next poll's total includes it. So a delivery's counter changes are not published; they
 * make a poll of the account due now instead, which reads them as totals.
 */
function pollsCountCounters(n: Normalised): Normalised {
  const counters = n.events.filter((e) => e.event.type === 'engagement');
  if (counters.length === 0) return n;
  return {
    ...n,
    events: n.events.filter((e) => e.event.type !== 'engagement'),
    activity: [
      ...n.activity,
      ...counters.map(({ platform, platformAccountId }) => ({ platform, platformAccountId })),
    ],
    skipped: [
      ...n.skipped,
      ...counters.map(
        (c) => `${c.event.id}: a counter change; the poll made due reads it as a total`,
      ),
    ],
  };
}

function createSettler(deps: WebhookDeps, logger: Logger) {
  const { bus, resolve, onRevoked, onActivity } = deps;

  async function connectionsOf(refs: AccountRef[]): Promise<Map<string, Connection[]>> {
    const unique = new Map(refs.map((ref) => [keyOf(ref), ref]));
    const found = await Promise.all(
      [...unique].map(
        async ([key, ref]) => [key, await resolve(ref.platform, ref.platformAccountId)] as const,
      ),
    );
    return new Map(found);
  }

  return async (name: string, read: Normalised, receivedAt: number): Promise<DeliveryAnswer> => {
    const n = pollsCountCounters(read);
    let connections: Map<string, Connection[]>;
    try {
      connections = await connectionsOf([...n.events, ...n.revoked, ...n.activity]);
    } catch (error) {
      logger.error({ err: error, webhook: name }, 'account lookup failed');
      throw new HttpError(503, 'accounts could not be looked up; deliver again');
    }
    const byOrg = new Map<string, EventInput[]>();
    for (const { event, ...ref } of n.events) {
      for (const { orgId, accountId } of connections.get(keyOf(ref)) ?? []) {
        let events = byOrg.get(orgId);
        if (!events) byOrg.set(orgId, (events = []));
        events.push({ ...event, accountId });
      }
    }
    const known = (ref: AccountRef) => (connections.get(keyOf(ref))?.length ?? 0) > 0;
    const revoked = n.revoked.filter(known);
    const activity = [...new Map(n.activity.filter(known).map((r) => [keyOf(r), r])).values()];
    let refused = 0;
    try {
      await Promise.all([
        ...[...byOrg].map(async ([orgId, events]) => {
          const bad = await publishEvents(bus, orgId, events, receivedAt);
          refused += bad.length;
          if (bad.length > 0) logger.warn({ webhook: name, orgId, refused: bad }, 'events refused');
        }),
        ...revoked.map((r) => onRevoked?.(r.platform, r.platformAccountId, r.reason)),
        ...activity.map((r) => onActivity?.(r.platform, r.platformAccountId)),
      ]);
    } catch (error) {
      logger.error({ err: error, webhook: name }, 'delivery could not be stored');
      throw new HttpError(503, 'the delivery could not be stored; deliver again');
    }
    const unknownAccounts = [...connections.values()].filter((c) => c.length === 0).length;
    const published = [...byOrg.values()].reduce((sum, events) => sum + events.length, 0) - refused;
    if (unknownAccounts > 0) logger.info({ webhook: name, unknownAccounts }, 'unknown accounts');
    if (n.skipped.length > 0) logger.debug({ webhook: name, skipped: n.skipped }, 'skipped');
    return {
      published,
      refused,
      skipped: n.skipped.length,
      unknownAccounts,
      revoked: revoked.length,
      activity: activity.length,
    };
  };
}
