// Organisations, their API keys and their tracked accounts. Every statement names its organisation.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { KEY_ROLES, type Caller, type KeyRole } from '../auth/caller.ts';
import type { Platform } from '../../schema/event-envelope.ts';
import { isTimeZone } from '../time/zoned-buckets.ts';
import type { MetaQuery, MetaStore } from './meta.port.ts';

export const API_KEY_PREFIX = 'loupe_';
/** The organisation `ensureDemoOrganisation` creates. */
export const DEMO_ORG_ID = 'demo';
/** The demo organisation's zone: its days start eight (or seven) hours after UTC's. */
export const DEMO_TIME_ZONE = 'America/Los_Angeles';
/** How many leading characters of a key are kept for display. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;
const MIN_KEY_LENGTH = 16;
const MAX_KEY_LENGTH = 256;

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: KeyRole;
  /** The partner client of a `partner` key; null for the others. */
  client: string | null;
  /** The first characters of the key, to tell keys apart; never the key. */
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface TrackedAccount {
  id: string;
  platform: Platform;
  handle: string | null;
  displayName: string | null;
  createdAt: Date;
}

export interface TrackedAccountInput {
  id: string;
  platform: Platform;
  handle?: string;
  displayName?: string;
}

/** The SHA-256 of a key, hex: what the database keeps instead of the key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Creates an organisation and returns its id. */
export async function createOrganisation(
  db: MetaQuery,
  name: string,
  timeZone = 'UTC',
): Promise<string> {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new RangeError('an organisation needs a name');
  checkTimeZone(timeZone);
  const id = randomUUID();
  await db.query('INSERT INTO organisations (id, name, time_zone) VALUES ($1, $2, $3)', [
    id,
    trimmed,
    timeZone,
  ]);
  return id;
}

/** Sets the time zone an organisation's answers are bucketed in; false for an unknown org. */
export async function setOrganisationTimeZone(
  db: MetaQuery,
  orgId: string,
  timeZone: string,
): Promise<boolean> {
  checkTimeZone(timeZone);
  const rows = await db.query<{ id: string }>(
    'UPDATE organisations SET time_zone = $2 WHERE id = $1 RETURNING id',
    [orgId, timeZone],
  );
  return rows.length > 0;
}

function checkTimeZone(timeZone: string): void {
  if (!isTimeZone(timeZone)) {
    throw new RangeError(`${JSON.stringify(timeZone)} is not an IANA time zone`);
  }
}

/** What a new key may do; `client` names a partner key's client and only it. */
export interface KeyAccess {
  role: KeyRole;
  client?: string;
}

/**
 * Creates an API key for `orgId` and returns it in plain text: this is the only time it is seen.
 * `plaintext` imposes the key (the configured demo key); otherwise one is generated.
 */
export async function createApiKey(
  db: MetaQuery,
  orgId: string,
  name: string,
  plaintext: string = generateApiKey(),
  access: KeyAccess = { role: 'admin' },
): Promise<string> {
  await insertApiKey(db, orgId, name, plaintext, access);
  return plaintext;
}

/** Creates a generated key for `orgId`: the key in plain text (seen only now) and its record. */
export async function issueApiKey(
  db: MetaQuery,
  orgId: string,
  name: string,
  access: KeyAccess,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const key = generateApiKey();
  return { key, info: await insertApiKey(db, orgId, name, key, access) };
}

async function insertApiKey(
  db: MetaQuery,
  orgId: string,
  name: string,
  plaintext: string,
  access: KeyAccess,
): Promise<ApiKeyInfo> {
  checkKeyShape(plaintext);
  const client = checkAccess(access);
  // Selecting the organisation makes an unknown org a missing row rather than a key for nobody.
  const inserted = await db.query<KeyRow>(
    `INSERT INTO api_keys (id, org_id, name, key_hash, prefix, role, client)
     SELECT $2, o.id, $3, $4, $5, $6, $7 FROM organisations o WHERE o.id = $1
     RETURNING ${KEY_COLUMNS}`,
    [
      orgId,
      randomUUID(),
      name,
      hashApiKey(plaintext),
      displayPrefix(plaintext),
      access.role,
      client,
    ],
  );
  if (inserted.length === 0) throw new RangeError(`no organisation ${orgId}`);
  return toKeyInfo(inserted[0]!);
}

function checkAccess({ role, client }: KeyAccess): string | null {
  if (!KEY_ROLES.includes(role)) {
    throw new RangeError(`role ${JSON.stringify(role)} is not one of ${KEY_ROLES.join(', ')}`);
  }
  const name = client?.trim();
  if (role === 'partner' && !name) throw new RangeError('a partner key needs a client name');
  if (role !== 'partner' && client !== undefined) {
    throw new RangeError(`only partner keys have a client; this one is ${role}`);
  }
  return name ?? null;
}

interface KeyRow {
  id: string;
  name: string;
  role: KeyRole;
  client: string | null;
  prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}
const KEY_COLUMNS = 'id, name, role, client, prefix, created_at, revoked_at';

function toKeyInfo(r: KeyRow): ApiKeyInfo {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    client: r.client,
    prefix: r.prefix,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

/** Lists the keys of an organisation, newest first, without the keys themselves. */
export async function listApiKeys(db: MetaQuery, orgId: string): Promise<ApiKeyInfo[]> {
  const rows = await db.query<KeyRow>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id`,
    [orgId],
  );
  return rows.map(toKeyInfo);
}

/** Revokes a key of `orgId`; false when the organisation has no such live key. */
export async function revokeApiKey(db: MetaQuery, orgId: string, keyId: string): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    `UPDATE api_keys SET revoked_at = now()
     WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`,
    [orgId, keyId],
  );
  return rows.length > 0;
}

/**
 * The SHA-256 under which each of these keys of `orgId` is known (every key of it when `ids` is
 * absent): what key caches are indexed by, so a change can drop their answers at once.
 */
export async function apiKeyHashes(
  db: MetaQuery,
  orgId: string,
  ids?: readonly string[],
): Promise<string[]> {
  const rows = ids
    ? await db.query<{ key_hash: string }>(
        'SELECT key_hash FROM api_keys WHERE org_id = $1 AND id = ANY($2)',
        [orgId, [...ids]],
      )
    : await db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE org_id = $1', [
        orgId,
      ]);
  return rows.map((r) => r.key_hash);
}

/** The organisation of a live key, or null: the one lookup that starts from a key, not an org. */
export async function authenticateApiKey(db: MetaQuery, key: string): Promise<Caller | null> {
  if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) return null;
  const [row] = await db.query<CallerRow>(
    `SELECT k.org_id, o.time_zone, k.role, k.client
     FROM api_keys k JOIN organisations o ON o.id = k.org_id
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [hashApiKey(key)],
  );
  return row ? toCaller(row) : null;
}

interface CallerRow {
  org_id: string;
  time_zone: string;
  role: KeyRole;
  client: string | null;
}

function toCaller(row: CallerRow): Caller {
  return {
    orgId: row.org_id,
    timeZone: row.time_zone,
    role: row.role,
    ...(row.client !== null && { client: row.client }),
  };
}

/**
 * Makes sure the demo organisation exists and `apiKey` opens it; harmless to repeat. A key already
 * known (even revoked) is left as it is, and its organisation returned.
 */
export async function ensureDemoOrganisation(meta: MetaStore, apiKey: string): Promise<Caller> {
  checkKeyShape(apiKey);
  return meta.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO organisations (id, name, time_zone) VALUES ($1, 'Demo', $2)
       ON CONFLICT (id) DO NOTHING`,
      [DEMO_ORG_ID, DEMO_TIME_ZONE],
    );
    // The demo key does everything the README shows: posting events and querying.
    await tx.query(
      `INSERT INTO api_keys (id, org_id, name, key_hash, prefix, role)
       VALUES ($1, $2, 'demo', $3, $4, 'admin')
       ON CONFLICT (key_hash) DO NOTHING`,
      [randomUUID(), DEMO_ORG_ID, hashApiKey(apiKey), displayPrefix(apiKey)],
    );
    const [row] = await tx.query<CallerRow>(
      `SELECT k.org_id, o.time_zone, k.role, k.client
       FROM api_keys k JOIN organisations o ON o.id = k.org_id
       WHERE k.key_hash = $1`,
      [hashApiKey(apiKey)],
    );
    if (!row) throw new Error('demo API key was not stored');
    return toCaller(row);
  });
}

/**
 * Adds or refreshes accounts of `orgId` in one statement. A handle or display name left out keeps
 * the one already stored; a repeated id in the batch counts once, the last one winning.
 */
export async function upsertTrackedAccounts(
  db: MetaQuery,
  orgId: string,
  accounts: readonly TrackedAccountInput[],
): Promise<void> {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  if (byId.size === 0) return;
  // Rows locked in one order by every caller: concurrent batches naming the same accounts then
  // queue behind each other instead of deadlocking (PostgreSQL 40P01).
  const rows = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await db.query(
    `INSERT INTO tracked_accounts (org_id, id, platform, handle, display_name)
     SELECT $1, a.id, a.platform, a.handle, a.display_name
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
       WITH ORDINALITY AS a (id, platform, handle, display_name, n)
     ORDER BY a.n
     ON CONFLICT (org_id, id) DO UPDATE SET
       platform = EXCLUDED.platform,
       handle = COALESCE(EXCLUDED.handle, tracked_accounts.handle),
       display_name = COALESCE(EXCLUDED.display_name, tracked_accounts.display_name)`,
    [
      orgId,
      rows.map((a) => a.id),
      rows.map((a) => a.platform),
      rows.map((a) => a.handle ?? null),
      rows.map((a) => a.displayName ?? null),
    ],
  );
}

/** Stops tracking accounts of `orgId` (their competitor-set memberships go with them); the ids removed. */
export async function untrackAccounts(
  db: MetaQuery,
  orgId: string,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `DELETE FROM tracked_accounts WHERE org_id = $1 AND id = ANY($2::text[]) RETURNING id`,
    [orgId, [...new Set(ids)]],
  );
  return rows.map((r) => r.id).sort();
}

export interface OrganisationInfo {
  id: string;
  name: string;
  timeZone: string;
  createdAt: Date;
}

/** Every organisation, oldest first: for the operator, never for a caller of the API. */
/** One organisation, or null when there is none with this id. */
export async function getOrganisation(
  db: MetaQuery,
  orgId: string,
): Promise<OrganisationInfo | null> {
  const rows = await db.query<{ id: string; name: string; time_zone: string; created_at: Date }>(
    'SELECT id, name, time_zone, created_at FROM organisations WHERE id = $1',
    [orgId],
  );
  const r = rows[0];
  return r ? { id: r.id, name: r.name, timeZone: r.time_zone, createdAt: r.created_at } : null;
}

export async function listOrganisations(db: MetaQuery): Promise<OrganisationInfo[]> {
  const rows = await db.query<{ id: string; name: string; time_zone: string; created_at: Date }>(
    'SELECT id, name, time_zone, created_at FROM organisations ORDER BY created_at, id',
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    timeZone: r.time_zone,
    createdAt: r.created_at,
  }));
}

/**
 * True when the meta store refused a value rather than failed to answer: SQLSTATE class 22 (data
 * exception, e.g. a NUL byte) or 23 (integrity constraint). Retrying the same value cannot help.
 */
export function isRefusedValue(error: unknown): boolean {
  const code =
    error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/** The accounts of `orgId`, optionally of one platform, ordered by platform then id. */
export async function listTrackedAccounts(
  db: MetaQuery,
  orgId: string,
  platform?: Platform,
): Promise<TrackedAccount[]> {
  const rows = await db.query<AccountRow>(
    `SELECT id, platform, handle, display_name, created_at FROM tracked_accounts
     WHERE org_id = $1 AND ($2::text IS NULL OR platform = $2)
     ORDER BY platform, id`,
    [orgId, platform ?? null],
  );
  return rows.map(toAccount);
}

/** One answer per id, in the order asked, null for ids `orgId` does not track: a DataLoader batch. */
export async function getTrackedAccounts(
  db: MetaQuery,
  orgId: string,
  ids: readonly string[],
): Promise<(TrackedAccount | null)[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<AccountRow>(
    `SELECT id, platform, handle, display_name, created_at FROM tracked_accounts
     WHERE org_id = $1 AND id = ANY($2::text[])`,
    [orgId, [...new Set(ids)]],
  );
  const byId = new Map(rows.map((r) => [r.id, toAccount(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export interface TrackedAccountsLookup {
  (orgId: string, ids: readonly string[]): Promise<(TrackedAccount | null)[]>;
  /** Drops what is remembered of these accounts, after this process changed them. */
  forget(orgId: string, ids: readonly string[]): void;
}

/**
 * getTrackedAccounts with found accounts remembered for `ttlMs`: every dashboard read resolves its
 * account, and the meta store's answer rarely changes. An account stops being tracked for readers
 * of this process at most `ttlMs` later; one not found is asked for again every time.
 */
export function rememberTrackedAccounts(
  db: MetaQuery,
  { ttlMs = 5_000, maxEntries = 10_000, now = Date.now } = {},
): TrackedAccountsLookup {
  const found = new Map<string, { account: TrackedAccount; until: number }>();
  const keyOf = (orgId: string, id: string) => `${orgId}\u0000${id}`;
  const lookup = async (orgId: string, ids: readonly string[]) => {
    const at = now();
    const key = (id: string) => keyOf(orgId, id);
    const known = (id: string) => {
      const entry = found.get(key(id));
      return entry && entry.until > at ? entry.account : undefined;
    };
    const missing = ids.filter((id) => known(id) === undefined);
    const fetched = new Map<string, TrackedAccount>();
    if (missing.length > 0) {
      for (const account of await getTrackedAccounts(db, orgId, missing)) {
        if (!account) continue;
        fetched.set(account.id, account);
        if (found.size >= maxEntries) found.clear();
        found.set(key(account.id), { account, until: at + ttlMs });
      }
    }
    return ids.map((id) => {
      const account = known(id) ?? fetched.get(id);
      return account ? { ...account } : null;
    });
  };
  return Object.assign(lookup, {
    forget(orgId: string, ids: readonly string[]) {
      for (const id of ids) found.delete(keyOf(orgId, id));
    },
  });
}

interface AccountRow {
  id: string;
  platform: Platform;
  handle: string | null;
  display_name: string | null;
  created_at: Date;
}

function toAccount(r: AccountRow): TrackedAccount {
  return {
    id: r.id,
    platform: r.platform,
    handle: r.handle,
    displayName: r.display_name,
    createdAt: r.created_at,
  };
}

function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
}

function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

function checkKeyShape(key: string): void {
  if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`an API key has ${MIN_KEY_LENGTH} to ${MAX_KEY_LENGTH} characters`);
  }
}
