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
