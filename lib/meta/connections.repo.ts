// Connected platform accounts: their sealed tokens, poll schedules, checkpoints and the leases
// that share the polling across replicas. A due connection is claimed by one replica with
// FOR UPDATE SKIP LOCKED; its lease is renewed while the poll runs, and every write of the poll
// is fenced by the lease, so a replica that lost it (paused, partitioned) changes nothing.
import type { TokenCipher } from '../secrets/token-cipher.ts';
import type { MetaQuery, MetaStore } from './meta.port.ts';

export const CONNECTED_PLATFORMS = ['facebook', 'instagram', 'x', 'tiktok'] as const;
export type ConnectedPlatform = (typeof CONNECTED_PLATFORMS)[number];
export const POLL_TIERS = ['realtime', 'standard'] as const;
export type PollTier = (typeof POLL_TIERS)[number];
export const CONNECTION_STATES = ['healthy', 'rate_limited', 'needs_reauth', 'failing'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** OAuth tokens as stored (sealed as one JSON value); times are epoch milliseconds. */
export interface StoredCredentials {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  refreshExpiresAt?: number;
}

/** A connection as the API shows it: never its tokens. */
export interface ConnectionView {
  accountId: string;
  platform: ConnectedPlatform;
  platformAccountId: string;
  tier: PollTier;
  pollIntervalSeconds: number;
  state: ConnectionState;
  rateLimitedUntil: Date | null;
  tokenExpiresAt: Date | null;
  tokenKeyId: string;
  nextPollAt: Date;
  lastPollStartedAt: Date | null;
  lastPollFinishedAt: Date | null;
  lastError: string | null;
  consecutiveFailures: number;
  polls: number;
  headroom: unknown[];
  polling: boolean;
  connectedAt: Date;
}

/** A connection claimed for a poll, with what the poll needs. */
export interface ClaimedConnection {
  orgId: string;
  accountId: string;
  platform: ConnectedPlatform;
  platformAccountId: string;
  pollIntervalSeconds: number;
  credentials: StoredCredentials;
  checkpoint: Record<string, unknown> | null;
  /** The scheduled instant of this poll (epoch ms). */
  slot: number;
  consecutiveFailures: number;
}

export interface ConnectInput {
  orgId: string;
  accountId: string;
  platform: ConnectedPlatform;
  platformAccountId: string;
  tier: PollTier;
  pollIntervalSeconds: number;
  credentials: StoredCredentials;
  handle?: string;
  now: Date;
}

export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/** What the sealed value is bound to: a value copied onto another row does not open there. */
const bindingOf = (orgId: string, accountId: string) => `connection:${orgId}/${accountId}`;

interface ConnectionRow {
  account_id: string;
  platform: ConnectedPlatform;
  platform_account_id: string;
  tier: PollTier;
  poll_interval_seconds: number;
  state: ConnectionState;
  rate_limited_until: Date | null;
  token_expires_at: Date | null;
  token_key_id: string;
  next_poll_at: Date;
  last_poll_started_at: Date | null;
  last_poll_finished_at: Date | null;
  last_error: string | null;
  consecutive_failures: number;
  polls: string | number;
  headroom: unknown[];
  lease_until: Date | null;
  connected_at: Date;
}

const VIEW_COLUMNS = `account_id, platform, platform_account_id, tier, poll_interval_seconds, state,
  rate_limited_until, token_expires_at, token_key_id, next_poll_at, last_poll_started_at,
  last_poll_finished_at, last_error, consecutive_failures, polls, headroom, lease_until, connected_at`;

function toView(row: ConnectionRow, now: Date): ConnectionView {
  return {
    accountId: row.account_id,
    platform: row.platform,
    platformAccountId: row.platform_account_id,
    tier: row.tier,
    pollIntervalSeconds: row.poll_interval_seconds,
    state: row.state,
    rateLimitedUntil: row.rate_limited_until,
    tokenExpiresAt: row.token_expires_at,
    tokenKeyId: row.token_key_id,
    nextPollAt: row.next_poll_at,
    lastPollStartedAt: row.last_poll_started_at,
    lastPollFinishedAt: row.last_poll_finished_at,
    lastError: row.last_error,
    consecutiveFailures: row.consecutive_failures,
    polls: Number(row.polls),
    headroom: row.headroom,
    polling: row.lease_until !== null && row.lease_until > now,
    connectedAt: row.connected_at,
  };
}

/**
 * Connects a tracked account (tracking it if it is not yet), or connects it again with new tokens:
 * the grant is replaced, the state reset and a poll made due now; the checkpoint is kept, so a
 * reconnected account goes on from where it was.
 */
export async function connectAccount(
  meta: MetaStore,
  cipher: TokenCipher,
  input: ConnectInput,
): Promise<ConnectionView> {
  const { orgId, accountId, platform, now } = input;
  const sealed = cipher.seal(JSON.stringify(input.credentials), bindingOf(orgId, accountId));
  const expiresAt =
    input.credentials.expiresAt === undefined ? null : new Date(input.credentials.expiresAt);
  return meta.transaction(async (tx) => {
    const [tracked] = await tx.query<{ platform: string }>(
      'SELECT platform FROM tracked_accounts WHERE org_id = $1 AND id = $2 FOR UPDATE',
      [orgId, accountId],
    );
    if (tracked && tracked.platform !== platform) {
      throw new ConnectionError(
        `account ${accountId} is tracked as a ${tracked.platform} account, not ${platform}`,
      );
    }
    if (!tracked) {
      await tx.query(
        'INSERT INTO tracked_accounts (org_id, id, platform, handle) VALUES ($1, $2, $3, $4)',
        [orgId, accountId, platform, input.handle ?? null],
      );
    }
    const [row] = await tx.query<ConnectionRow>(
      `INSERT INTO connections (org_id, account_id, platform, platform_account_id, tier,
         poll_interval_seconds, credentials, token_key_id, token_expires_at, next_poll_at, connected_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
       ON CONFLICT (org_id, account_id) DO UPDATE SET
         platform_account_id = EXCLUDED.platform_account_id, tier = EXCLUDED.tier,
         poll_interval_seconds = EXCLUDED.poll_interval_seconds,
         credentials = EXCLUDED.credentials, token_key_id = EXCLUDED.token_key_id,
         token_expires_at = EXCLUDED.token_expires_at, next_poll_at = EXCLUDED.next_poll_at,
         state = 'healthy', rate_limited_until = NULL, last_error = NULL, consecutive_failures = 0,
         -- Another account's marks mean nothing here.
         checkpoint = CASE WHEN connections.platform_account_id = EXCLUDED.platform_account_id
                           THEN connections.checkpoint END
       RETURNING ${VIEW_COLUMNS}`,
      [
        orgId,
        accountId,
        platform,
        input.platformAccountId,
        input.tier,
        input.pollIntervalSeconds,
        sealed,
        cipher.activeKeyId,
        expiresAt,
        now,
      ],
    );
    return toView(row!, now);
  });
}

/** Forgets the grant of an account (it stays tracked, with its data); false when not connected. */
export async function disconnectAccount(
  db: MetaQuery,
  orgId: string,
  accountId: string,
): Promise<boolean> {
  const rows = await db.query(
    'DELETE FROM connections WHERE org_id = $1 AND account_id = $2 RETURNING account_id',
    [orgId, accountId],
  );
  return rows.length > 0;
}

/** Makes a poll due now; null when not connected. A connection needing re-authorisation is refused. */
export async function requestPoll(
  db: MetaQuery,
  orgId: string,
  accountId: string,
  now: Date,
): Promise<ConnectionView | null> {
  const [current] = await db.query<{ state: ConnectionState }>(
    'SELECT state FROM connections WHERE org_id = $1 AND account_id = $2',
    [orgId, accountId],
  );
  if (!current) return null;
  if (current.state === 'needs_reauth') {
    throw new ConnectionError(
      `account ${accountId} needs re-authorisation: connect it again with new tokens`,
    );
  }
  const [row] = await db.query<ConnectionRow>(
    `UPDATE connections SET next_poll_at = LEAST(next_poll_at, $3)
     WHERE org_id = $1 AND account_id = $2 RETURNING ${VIEW_COLUMNS}`,
    [orgId, accountId, now],
  );
  return row ? toView(row, now) : null;
}

export async function listConnections(
  db: MetaQuery,
  orgId: string,
  now: Date,
  accountIds?: readonly string[],
): Promise<ConnectionView[]> {
  const rows = await db.query<ConnectionRow>(
    `SELECT ${VIEW_COLUMNS} FROM connections
     WHERE org_id = $1 AND ($2::text[] IS NULL OR account_id = ANY($2::text[]))
     ORDER BY platform, account_id`,
    [orgId, accountIds ?? null],
  );
  return rows.map((r) => toView(r, now));
}

/**
 * Claims up to `limit` due connections for `owner` until `now + leaseMs`: due, not waiting out a
 * rate limit, not needing re-authorisation, and not leased to a replica whose lease still holds.
 * Replicas claiming at once skip each other's rows instead of waiting on them.
 */
export async function claimDueConnections(
  db: MetaQuery,
  cipher: TokenCipher,
  owner: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<ClaimedConnection[]> {
  const rows = await db.query<{
    org_id: string;
    account_id: string;
    platform: ConnectedPlatform;
    platform_account_id: string;
    poll_interval_seconds: number;
    credentials: string;
    checkpoint: Record<string, unknown> | null;
    next_poll_at: Date;
    consecutive_failures: number;
  }>(
    `UPDATE connections c SET lease_owner = $1, lease_until = $3, last_poll_started_at = $2
     FROM (
       SELECT org_id, account_id FROM connections
       WHERE state <> 'needs_reauth' AND next_poll_at <= $2
         AND (lease_until IS NULL OR lease_until < $2)
       ORDER BY next_poll_at
       LIMIT $4
       FOR UPDATE SKIP LOCKED
     ) due
     WHERE c.org_id = due.org_id AND c.account_id = due.account_id
     RETURNING c.org_id, c.account_id, c.platform, c.platform_account_id,
       c.poll_interval_seconds, c.credentials, c.checkpoint, c.next_poll_at, c.consecutive_failures`,
    [owner, now, new Date(now.getTime() + leaseMs), limit],
  );
  return rows.map((r) => ({
    orgId: r.org_id,
    accountId: r.account_id,
    platform: r.platform,
    platformAccountId: r.platform_account_id,
    pollIntervalSeconds: r.poll_interval_seconds,
    credentials: JSON.parse(
      cipher.open(r.credentials, bindingOf(r.org_id, r.account_id)),
    ) as StoredCredentials,
    checkpoint: r.checkpoint,
    slot: r.next_poll_at.getTime(),
    consecutiveFailures: r.consecutive_failures,
  }));
}

export interface LeaseKey {
  orgId: string;
  accountId: string;
}

/** Extends `owner`'s leases; answers the keys it still holds (a lost one must stop its poll). */
export async function renewLeases(
  db: MetaQuery,
  owner: string,
  keys: readonly LeaseKey[],
  now: Date,
  leaseMs: number,
): Promise<LeaseKey[]> {
  if (keys.length === 0) return [];
  const rows = await db.query<{ org_id: string; account_id: string }>(
    `UPDATE connections SET lease_until = $4
     WHERE lease_owner = $1 AND (org_id, account_id) IN (
       SELECT * FROM unnest($2::text[], $3::text[]))
     RETURNING org_id, account_id`,
    [
      owner,
      keys.map((k) => k.orgId),
      keys.map((k) => k.accountId),
      new Date(now.getTime() + leaseMs),
    ],
  );
  return rows.map((r) => ({ orgId: r.org_id, accountId: r.account_id }));
}

/** A stopping replica gives its unfinished polls back at once, instead of after the lease lapses. */
export async function releaseLeases(
  db: MetaQuery,
  owner: string,
  keys: readonly LeaseKey[],
): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `UPDATE connections SET lease_owner = NULL, lease_until = NULL
     WHERE lease_owner = $1 AND (org_id, account_id) IN (
       SELECT * FROM unnest($2::text[], $3::text[]))`,
    [owner, keys.map((k) => k.orgId), keys.map((k) => k.accountId)],
  );
}

/** Stores a poll's checkpoint; false when `owner` no longer holds the lease. */
export async function saveCheckpoint(
  db: MetaQuery,
  owner: string,
  key: LeaseKey,
  checkpoint: Record<string, unknown>,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE connections SET checkpoint = $4
     WHERE org_id = $1 AND account_id = $2 AND lease_owner = $3 RETURNING account_id`,
    [key.orgId, key.accountId, owner, JSON.stringify(checkpoint)],
  );
  return rows.length > 0;
}

/** Stores refreshed tokens, sealed under the active key; false when the lease is lost. */
export async function saveCredentials(
  db: MetaQuery,
  cipher: TokenCipher,
  owner: string,
  key: LeaseKey,
  credentials: StoredCredentials,
): Promise<boolean> {
  const sealed = cipher.seal(JSON.stringify(credentials), bindingOf(key.orgId, key.accountId));
  const rows = await db.query(
    `UPDATE connections SET credentials = $4, token_key_id = $5, token_expires_at = $6
     WHERE org_id = $1 AND account_id = $2 AND lease_owner = $3 RETURNING account_id`,
    [
      key.orgId,
      key.accountId,
      owner,
      sealed,
      cipher.activeKeyId,
      credentials.expiresAt === undefined ? null : new Date(credentials.expiresAt),
    ],
  );
  return rows.length > 0;
}

/** How a poll ended, and so what the schedule does next. */
export type PollOutcome =
  | { kind: 'ok'; nextPollAt: Date }
  | { kind: 'rate-limited'; until: Date; error: string }
  | { kind: 'revoked'; error: string }
  | { kind: 'failed'; error: string; retryAt: Date };

/** Ends a poll and releases its lease; false when `owner` no longer held it. */
export async function finishPoll(
  db: MetaQuery,
  owner: string,
  key: LeaseKey,
  outcome: PollOutcome,
  headroom: readonly unknown[],
  now: Date,
): Promise<boolean> {
  const [state, next, until, error, failures] = ((): [
    ConnectionState,
    Date | null,
    Date | null,
    string | null,
    'reset' | 'add' | 'keep',
  ] => {
    switch (outcome.kind) {
      case 'ok':
        return ['healthy', outcome.nextPollAt, null, null, 'reset'];
      case 'rate-limited':
        return ['rate_limited', outcome.until, outcome.until, outcome.error, 'keep'];
      case 'revoked':
        return ['needs_reauth', null, null, outcome.error, 'keep'];
      case 'failed':
        return ['failing', outcome.retryAt, null, outcome.error, 'add'];
    }
  })();
  const rows = await db.query(
    `UPDATE connections SET state = $4, next_poll_at = COALESCE($5, next_poll_at),
       rate_limited_until = $6, last_error = $7, last_poll_finished_at = $8,
       consecutive_failures = CASE $9 WHEN 'reset' THEN 0 WHEN 'add' THEN consecutive_failures + 1
                                      ELSE consecutive_failures END,
       headroom = $10, polls = polls + 1, lease_owner = NULL, lease_until = NULL
     WHERE org_id = $1 AND account_id = $2 AND lease_owner = $3 RETURNING account_id`,
    [
      key.orgId,
      key.accountId,
      owner,
      state,
      next,
      until,
      error,
      now,
      failures,
      JSON.stringify(headroom),
    ],
  );
  return rows.length > 0;
}

/** Who connected a platform's account: what a webhook delivery is filed under. */
export async function connectionsOfPlatformAccount(
  db: MetaQuery,
  platform: ConnectedPlatform,
  platformAccountId: string,
): Promise<LeaseKey[]> {
  const rows = await db.query<{ org_id: string; account_id: string }>(
    `SELECT org_id, account_id FROM connections
     WHERE platform = $1 AND platform_account_id = $2 ORDER BY org_id, account_id`,
    [platform, platformAccountId],
  );
  return rows.map((r) => ({ orgId: r.org_id, accountId: r.account_id }));
}

/** The platform says the grant is gone: every connection of that account needs re-authorisation. */
export async function markRevoked(
  db: MetaQuery,
  platform: ConnectedPlatform,
  platformAccountId: string,
  reason: string,
): Promise<number> {
  const rows = await db.query(
    `UPDATE connections SET state = 'needs_reauth', last_error = $3
     WHERE platform = $1 AND platform_account_id = $2 RETURNING account_id`,
    [platform, platformAccountId, reason],
  );
  return rows.length;
}

/** Makes a poll of every connection of that platform account due now (a webhook said there is news). */
export async function pollPlatformAccountSoon(
  db: MetaQuery,
  platform: ConnectedPlatform,
  platformAccountId: string,
  now: Date,
): Promise<number> {
  const rows = await db.query(
    `UPDATE connections SET next_poll_at = LEAST(next_poll_at, $3)
     WHERE platform = $1 AND platform_account_id = $2 AND state <> 'needs_reauth'
     RETURNING account_id`,
    [platform, platformAccountId, now],
  );
  return rows.length;
}
