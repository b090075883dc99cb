// Competitor sets: named, ordered groups of an organisation's tracked accounts.
import { randomUUID } from 'node:crypto';
import type { MetaQuery, MetaStore } from './meta.port.ts';

export interface CompetitorSet {
  id: string;
  name: string;
  /** In the order they were given. */
  accountIds: string[];
  createdAt: Date;
}

export type CreateCompetitorSetResult =
  | { ok: true; set: CompetitorSet }
  | { ok: false; reason: 'duplicate-name' }
  | { ok: false; reason: 'unknown-accounts'; accountIds: string[] };

/**
 * Creates a set of accounts `orgId` tracks. Expected refusals are values: a name already used by
 * this organisation, or accounts it does not track (listed). Repeated ids count once.
 */
export async function createCompetitorSet(
  meta: MetaStore,
  orgId: string,
  name: string,
  accountIds: readonly string[],
): Promise<CreateCompetitorSetResult> {
  const ids = [...new Set(accountIds)];
  return meta.transaction(async (tx): Promise<CreateCompetitorSetResult> => {
    const known = await tx.query<{ id: string }>(
      'SELECT id FROM tracked_accounts WHERE org_id = $1 AND id = ANY($2::text[])',
      [orgId, ids],
    );
    const knownIds = new Set(known.map((r) => r.id));
    const unknown = ids.filter((id) => !knownIds.has(id));
    if (unknown.length > 0) return { ok: false, reason: 'unknown-accounts', accountIds: unknown };

    const [created] = await tx.query<{ id: string; created_at: Date }>(
      `INSERT INTO competitor_sets (id, org_id, name) VALUES ($1, $2, $3)
       ON CONFLICT (org_id, name) DO NOTHING RETURNING id, created_at`,
      [randomUUID(), orgId, name],
    );
    if (!created) return { ok: false, reason: 'duplicate-name' };
    await tx.query(
      `INSERT INTO competitor_set_accounts (org_id, set_id, account_id, position)
       SELECT $1, $2, a.id, a.position - 1
       FROM unnest($3::text[]) WITH ORDINALITY AS a (id, position)`,
      [orgId, created.id, ids],
    );
    return {
      ok: true,
      set: { id: created.id, name, accountIds: ids, createdAt: created.created_at },
    };
  });
}

export type ChangeCompetitorSetResult =
  | { ok: true; set: CompetitorSet }
  | { ok: false; reason: 'not-found' }
  | { ok: false; reason: 'duplicate-name' }
  | { ok: false; reason: 'unknown-accounts'; accountIds: string[] };

/** Renames a set of `orgId`; refusals are values, and a refused rename changes nothing. */
export async function renameCompetitorSet(
  meta: MetaStore,
  orgId: string,
  id: string,
  name: string,
): Promise<ChangeCompetitorSetResult> {
  return meta.transaction(async (tx): Promise<ChangeCompetitorSetResult> => {
    const current = await getCompetitorSet(tx, orgId, id);
    if (!current) return { ok: false, reason: 'not-found' };
    if (current.name === name) return { ok: true, set: current };
    const taken = await tx.query<{ id: string }>(
      'SELECT id FROM competitor_sets WHERE org_id = $1 AND name = $2',
      [orgId, name],
    );
    if (taken.length > 0) return { ok: false, reason: 'duplicate-name' };
    await tx.query('UPDATE competitor_sets SET name = $3 WHERE org_id = $1 AND id = $2', [
      orgId,
      id,
      name,
    ]);
    return { ok: true, set: { ...current, name } };
  });
}

/**
 * Replaces the members of a set of `orgId` with `accountIds` (repeats count once), in that order,
 * in one transaction: accounts the organisation does not track refuse the whole change. `change`
 * may compute the new list from the current one (adding or removing members).
 */
export async function setCompetitorSetMembers(
  meta: MetaStore,
  orgId: string,
  id: string,
  change: readonly string[] | ((current: readonly string[]) => readonly string[]),
  /** Checked on the new list before anything is written; a message refuses the change. */
  check: (ids: readonly string[]) => string | null = () => null,
): Promise<ChangeCompetitorSetResult | { ok: false; reason: 'refused'; message: string }> {
  return meta.transaction(async (tx) => {
    // Locks the set's row, so two concurrent changes apply one after the other.
    const locked = await tx.query<{ id: string }>(
      'SELECT id FROM competitor_sets WHERE org_id = $1 AND id = $2 FOR UPDATE',
      [orgId, id],
    );
    const current = locked.length > 0 ? await getCompetitorSet(tx, orgId, id) : null;
    if (!current) return { ok: false as const, reason: 'not-found' as const };
    const ids = [...new Set(typeof change === 'function' ? change(current.accountIds) : change)];
    const refusal = check(ids);
    if (refusal !== null)
      return { ok: false as const, reason: 'refused' as const, message: refusal };
    const known = await tx.query<{ id: string }>(
      'SELECT id FROM tracked_accounts WHERE org_id = $1 AND id = ANY($2::text[])',
      [orgId, ids],
    );
    const knownIds = new Set(known.map((r) => r.id));
    const unknown = ids.filter((a) => !knownIds.has(a));
    if (unknown.length > 0) {
      return { ok: false as const, reason: 'unknown-accounts' as const, accountIds: unknown };
    }
    await tx.query('DELETE FROM competitor_set_accounts WHERE org_id = $1 AND set_id = $2', [
      orgId,
      id,
    ]);
    await tx.query(
      `INSERT INTO competitor_set_accounts (org_id, set_id, account_id, position)
       SELECT $1, $2, a.id, a.position - 1
       FROM unnest($3::text[]) WITH ORDINALITY AS a (id, position)`,
      [orgId, id, ids],
    );
    return { ok: true as const, set: { ...current, accountIds: ids } };
  });
}

/** The sets of `orgId`, oldest first, each with its accounts: one query. */
export async function listCompetitorSets(db: MetaQuery, orgId: string): Promise<CompetitorSet[]> {
  const rows = await db.query<SetRow>(`${SELECT_SETS} WHERE s.org_id = $1 ${GROUP_SETS}`, [orgId]);
  return rows.map(toSet);
}

/** One set of `orgId`, or null when this organisation has none with that id. */
export async function getCompetitorSet(
  db: MetaQuery,
  orgId: string,
  id: string,
): Promise<CompetitorSet | null> {
  const [row] = await db.query<SetRow>(
    `${SELECT_SETS} WHERE s.org_id = $1 AND s.id = $2 ${GROUP_SETS}`,
    [orgId, id],
  );
  return row ? toSet(row) : null;
}

/** Deletes a set of `orgId` with its memberships; false when there was none. */
export async function deleteCompetitorSet(
  db: MetaQuery,
  orgId: string,
  id: string,
): Promise<boolean> {
  const rows = await db.query<{ id: string }>(
    'DELETE FROM competitor_sets WHERE org_id = $1 AND id = $2 RETURNING id',
    [orgId, id],
  );
  return rows.length > 0;
}

// The join also matches on org_id, so a membership can never leak across organisations.
const SELECT_SETS = `
  SELECT s.id, s.name, s.created_at,
    COALESCE(array_agg(m.account_id ORDER BY m.position) FILTER (WHERE m.account_id IS NOT NULL),
             '{}') AS account_ids
  FROM competitor_sets s
  LEFT JOIN competitor_set_accounts m ON m.org_id = s.org_id AND m.set_id = s.id`;
const GROUP_SETS = 'GROUP BY s.id, s.name, s.created_at ORDER BY s.created_at, s.id';

interface SetRow {
  id: string;
  name: string;
  created_at: Date;
  account_ids: string[];
}

function toSet(r: SetRow): CompetitorSet {
  return { id: r.id, name: r.name, accountIds: r.account_ids, createdAt: r.created_at };
}
