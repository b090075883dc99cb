// Partner clients and their trusted documents: the manifests published for each (every version
// kept), the one in force, and what an `audit` client ran that its manifest did not hold.
import type { MetaQuery, MetaStore } from './meta.port.ts';

export const CLIENT_MODES = ['enforce', 'audit'] as const;
export type ClientMode = (typeof CLIENT_MODES)[number];

/** One operation of a manifest, as Apollo's persisted query manifest lists it. */
export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

export interface ManifestVersion {
  version: number;
  publishedAt: Date;
  operationCount: number;
}

export interface PartnerClient {
  name: string;
  mode: ClientMode;
  /** The version in force; null until one is published. */
  activeVersion: number | null;
  /** Newest first. */
  versions: ManifestVersion[];
  createdAt: Date;
}

export interface UnknownOperation {
  hash: string;
  name: string | null;
  body: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

/** What the gateway needs to admit a partner's request: the mode and the operations in force. */
export interface ClientPolicy {
  mode: ClientMode;
  /** By id; empty until a manifest is published. */
  operations: ReadonlyMap<string, ManifestOperation>;
}

/** Registers a client of `orgId`; false when it already has one of this name. */
export async function registerPartnerClient(
  db: MetaQuery,
  orgId: string,
  name: string,
  mode: ClientMode = 'enforce',
): Promise<boolean> {
  const rows = await db.query<{ name: string }>(
    `INSERT INTO partner_clients (org_id, name, mode) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, name) DO NOTHING RETURNING name`,
    [orgId, name, mode],
  );
  return rows.length > 0;
}

/** Sets a client's mode; false when `orgId` has no such client. */
export async function setPartnerClientMode(
  db: MetaQuery,
  orgId: string,
  name: string,
  mode: ClientMode,
): Promise<boolean> {
  const rows = await db.query<{ name: string }>(
    'UPDATE partner_clients SET mode = $3 WHERE org_id = $1 AND name = $2 RETURNING name',
    [orgId, name, mode],
  );
  return rows.length > 0;
}

export async function listPartnerClients(
  db: MetaQuery,
  orgId: string,
  names?: readonly string[],
): Promise<PartnerClient[]> {
  const clients = await db.query<{
    name: string;
    mode: ClientMode;
    active_version: number | null;
    created_at: Date;
  }>(
    `SELECT name, mode, active_version, created_at FROM partner_clients
     WHERE org_id = $1 ${names ? 'AND name = ANY($2)' : ''} ORDER BY name`,
    names ? [orgId, [...names]] : [orgId],
  );
  const versions = await db.query<{
    client: string;
    version: number;
    published_at: Date;
    operation_count: number | string;
  }>(
    `SELECT client, version, published_at, jsonb_array_length(operations) AS operation_count
     FROM partner_manifests WHERE org_id = $1 ORDER BY client, version DESC`,
    [orgId],
  );
  return clients.map((c) => ({
    name: c.name,
    mode: c.mode,
    activeVersion: c.active_version,
    versions: versions
      .filter((v) => v.client === c.name)
      .map((v) => ({
        version: v.version,
        publishedAt: v.published_at,
        operationCount: Number(v.operation_count),
      })),
    createdAt: c.created_at,
  }));
}

/**
 * Publishes a manifest as the client's next version and puts it in force. Returns the version,
 * or null when `orgId` has no such client.
 */
export async function publishManifest(
  meta: MetaStore,
  orgId: string,
  client: string,
  operations: readonly ManifestOperation[],
): Promise<number | null> {
  return meta.transaction(async (tx) => {
    // Locks the client's row, so two publishers never take the same version.
    const [owner] = await tx.query<{ name: string }>(
      'SELECT name FROM partner_clients WHERE org_id = $1 AND name = $2 FOR UPDATE',
      [orgId, client],
    );
    if (!owner) return null;
    const [next] = await tx.query<{ version: number }>(
      `SELECT coalesce(max(version), 0) + 1 AS version FROM partner_manifests
       WHERE org_id = $1 AND client = $2`,
      [orgId, client],
    );
    const version = next!.version;
    await tx.query(
      `INSERT INTO partner_manifests (org_id, client, version, operations)
       VALUES ($1, $2, $3, $4::jsonb)`,
      [orgId, client, version, JSON.stringify(operations)],
    );
    await tx.query(
      'UPDATE partner_clients SET active_version = $3 WHERE org_id = $1 AND name = $2',
      [orgId, client, version],
    );
    return version;
  });
}

/** Puts an earlier version back in force; false when the client has no such version. */
export async function restoreManifest(
  db: MetaQuery,
  orgId: string,
  client: string,
  version: number,
): Promise<boolean> {
  const rows = await db.query<{ name: string }>(
    `UPDATE partner_clients c SET active_version = m.version
     FROM partner_manifests m
     WHERE c.org_id = $1 AND c.name = $2
       AND m.org_id = c.org_id AND m.client = c.name AND m.version = $3
     RETURNING c.name`,
    [orgId, client, version],
  );
  return rows.length > 0;
}

/** The mode and operations in force for a client, or null when `orgId` has no such client. */
export async function clientPolicy(
  db: MetaQuery,
  orgId: string,
  client: string,
): Promise<ClientPolicy | null> {
  const [row] = await db.query<{ mode: ClientMode; operations: ManifestOperation[] | null }>(
    `SELECT c.mode, m.operations FROM partner_clients c
     LEFT JOIN partner_manifests m
       ON m.org_id = c.org_id AND m.client = c.name AND m.version = c.active_version
     WHERE c.org_id = $1 AND c.name = $2`,
    [orgId, client],
  );
  if (!row) return null;
  return {
    mode: row.mode,
    operations: new Map((row.operations ?? []).map((op) => [op.id, op])),
  };
}

/** Counts one run of an operation an `audit` client's manifest does not hold. */
export async function recordUnknownOperation(
  db: MetaQuery,
  orgId: string,
  client: string,
  op: { hash: string; name: string | null; body: string },
): Promise<void> {
  await db.query(
    `INSERT INTO partner_unknown_operations (org_id, client, operation_hash, operation_name, body)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (org_id, client, operation_hash)
     DO UPDATE SET count = partner_unknown_operations.count + 1, last_seen = now()`,
    [orgId, client, op.hash, op.name, op.body],
  );
}

/** What an `audit` client ran outside its manifest, most run first. */
export async function listUnknownOperations(
  db: MetaQuery,
  orgId: string,
  client: string,
): Promise<UnknownOperation[]> {
  const rows = await db.query<{
    operation_hash: string;
    operation_name: string | null;
    body: string;
    count: number | string;
    first_seen: Date;
    last_seen: Date;
  }>(
    `SELECT operation_hash, operation_name, body, count, first_seen, last_seen
     FROM partner_unknown_operations WHERE org_id = $1 AND client = $2
     ORDER BY count DESC, operation_hash`,
    [orgId, client],
  );
  return rows.map((r) => ({
    hash: r.operation_hash,
    name: r.operation_name,
    body: r.body,
    count: Number(r.count),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  }));
}
