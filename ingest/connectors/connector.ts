// What every platform connector is: a poll of one connected account, page by page, that hands the
// pipeline envelope events and a checkpoint after each page. The manager (manager.ts) decides
// when a connection is polled and by which replica; the platform client (platform-client.ts)
// makes each call inside the platform's limits, with its tokens fresh.
import type { Logger } from '../../lib/logger.ts';
import type { EventInput } from '../../schema/event-envelope.ts';
import type { SocialPlatform } from './ids.ts';

export interface Connection {
  orgId: string;
  /** Loupe's tracked account the events are filed under. */
  accountId: string;
  platform: SocialPlatform;
  /** The platform's own id: a Page id, an IG user id, an X user id, a TikTok open_id. */
  platformAccountId: string;
}

/** OAuth tokens of one connection; times are epoch milliseconds. Never logged, never answered. */
export interface Credentials {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  refreshExpiresAt?: number;
}

/** What a connector keeps between polls (JSON): the marks and cursors of an incremental load. */
export type Checkpoint = { [key: string]: unknown };

export interface PollContext {
  connection: Connection;
  /** Where the last poll (or this one, before a crash) left off; null on the first poll. */
  checkpoint: Checkpoint | null;
  /**
   * The poll's scheduled instant (epoch ms). Lifetime totals read by a poll carry it in their ids,
   * so a page read again after a crash adds nothing; a pass resumed from a checkpoint keeps the
   * slot it started with.
   */
  slot: number;
  api: PlatformApi;
  now(): number;
  /**
   * Puts the events on the bus, then stores the checkpoint; resolves once both are done. Rejects
   * (and the poll must stop) when this replica no longer holds the connection's lease.
   */
  emit(events: readonly EventInput[], checkpoint: Checkpoint): Promise<void>;
  signal: AbortSignal;
  logger: Logger;
}

export interface Connector {
  readonly platform: SocialPlatform;
  /** One poll: reads what is new and refreshes recent totals, emitting after each page. */
  poll(ctx: PollContext): Promise<void>;
}

export interface ApiRequest {
  method?: 'GET' | 'POST';
  /** Path from the platform's base URL, e.g. `/2/users/123/tweets`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** The endpoint's name for rate limits, which are per endpoint: `GET /2/users/:id/tweets`. */
  endpoint: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: unknown;
}

/** Authorised calls to one platform for one connection. */
export interface PlatformApi {
  /** Resolves with the JSON body of a successful answer; throws a ConnectorError otherwise. */
  call<T = unknown>(request: ApiRequest): Promise<T>;
}

/** How the platform client should treat an answer (each platform's `judge`). */
export type Verdict =
  | { kind: 'ok' }
  /** The access token expired: refresh it, then call again. */
  | { kind: 'expired'; reason: string }
  /** The grant is gone (revoked, password changed): the connection needs re-authorisation. */
  | { kind: 'revoked'; reason: string }
  /** Throttled: call again at `until` (epoch ms), or after the client's default pause. */
  | { kind: 'throttled'; reason: string; until?: number }
  /** Worth trying again after a backoff: 5xx, a platform's "temporary" codes. */
  | { kind: 'transient'; reason: string }
  /** Anything else: no retry. */
  | { kind: 'failed'; reason: string };

/** What an answer says about its endpoint's limit. */
export type LimitReading =
  /** A counted window, as X sends it: calls left until `resetAt` (epoch ms), then `limit`. */
  | { kind: 'window'; limit: number; remaining: number; resetAt: number }
  /** Nothing may be called before `until` (Meta's usage at 100 %, a 429's announced reset). */
  | { kind: 'blocked'; until: number; usagePercent?: number }
  /** Usage as a percentage of an allowance the platform does not reveal (Meta). */
  | { kind: 'usage'; usagePercent: number };

/** A plain HTTP call, for token endpoints: timeouts and backoff, but no authorisation or limits. */
export type RawHttp = (request: {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
}) => Promise<ApiResponse>;

/** What makes each platform different; one per platform, beside its connector. */
export interface PlatformProtocol {
  readonly platform: SocialPlatform;
  /** e.g. `https://api.x.com`; the fakes' URL in tests and the demo. */
  readonly baseUrl: string;
  /** Headers that authorise a call (tokens go in headers, never in URLs that get logged). */
  authorise(accessToken: string): Record<string, string>;
  judge(response: ApiResponse, now: number): Verdict;
  /** Null when the answer carries nothing about the limit. */
  readLimits(response: ApiResponse, now: number): LimitReading | null;
  /** Whose allowance a call spends: the connected user's (X, Meta) or the whole app's (TikTok). */
  readonly limitScope: 'user' | 'app';
  /** A limit we keep ourselves when the platform sends no headers (TikTok: 600/min sliding). */
  clientLimit?(endpoint: string): { calls: number; windowMs: number } | undefined;
  /** Refreshed this long before `expiresAt`. */
  readonly refreshAheadMs: number;
  /**
   * New credentials for old ones. Throws `ConnectorError('revoked', …)` when the platform refuses
   * the grant. Keeps fields the platform does not return (e.g. a refresh token not rotated).
   */
  refresh(credentials: Credentials, http: RawHttp): Promise<Credentials>;
}

export type ConnectorErrorKind = 'revoked' | 'rate-limited' | 'failed' | 'lease-lost';

/** Why a poll stopped; its message never holds a token. */
export class ConnectorError extends Error {
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
    /** For `rate-limited`: when calls may start again (epoch ms). */
    readonly until?: number,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}
