// Reads the latest profile and audience snapshots per account from the OLAP store, many accounts
// per round trip. Both tables are ReplacingMergeTree: each read takes the latest row per key
// itself (ORDER BY observed_at DESC LIMIT 1 BY key), so answers are exact before merges.
import type { Olap } from '../../lib/olap/olap.port.ts';

export interface Profile {
  handle: string;
  displayName: string;
  followers: number;
  following: number;
  postCount: number;
  observedAt: number;
}

export const DIMENSIONS = ['age', 'gender', 'country', 'city', 'interests'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface AudienceSnapshot extends Record<Dimension, Record<string, number>> {
  /** The latest observation of any dimension. */
  observedAt: number;
}

export interface AudienceStore {
  profiles(orgId: string, accountIds: readonly string[]): Promise<(Profile | null)[]>;
  audiences(orgId: string, accountIds: readonly string[]): Promise<(AudienceSnapshot | null)[]>;
}

/** 64-bit integers arrive as strings from a ClickHouse server and as numbers from chDB. */
type Int64 = number | string;

export function createAudienceStore(olap: Olap): AudienceStore {
  return {
    async profiles(orgId, accountIds) {
      const rows = await olap.query<{
        account_id: string;
        handle: string;
        display_name: string;
        followers: Int64;
        following: Int64;
        post_count: Int64;
        observed_ms: Int64;
      }>(
        `SELECT account_id, handle, display_name, followers, following, post_count,
                toUnixTimestamp64Milli(observed_at) AS observed_ms
         FROM profiles
         WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
         ORDER BY account_id, observed_at DESC
         LIMIT 1 BY account_id`,
        { org: orgId, accounts: [...new Set(accountIds)] },
      );
      const byId = new Map(rows.map((r) => [r.account_id, r]));
      return accountIds.map((id) => {
        const r = byId.get(id);
        if (!r) return null;
        return {
          handle: r.handle,
          displayName: r.display_name,
          followers: Number(r.followers),
          following: Number(r.following),
          postCount: Number(r.post_count),
          observedAt: Number(r.observed_ms),
        };
      });
    },

    async audiences(orgId, accountIds) {
      const rows = await olap.query<{
        account_id: string;
        dimension: Dimension;
        buckets: Record<string, number>;
        observed_ms: Int64;
      }>(
        `SELECT account_id, dimension, buckets, toUnixTimestamp64Milli(observed_at) AS observed_ms
         FROM audience
         WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
         ORDER BY account_id, dimension, observed_at DESC
         LIMIT 1 BY account_id, dimension`,
        { org: orgId, accounts: [...new Set(accountIds)] },
      );
      const byId = new Map<string, AudienceSnapshot>();
      for (const r of rows) {
        const snapshot = byId.get(r.account_id) ?? emptySnapshot();
        snapshot[r.dimension] = r.buckets;
        snapshot.observedAt = Math.max(snapshot.observedAt, Number(r.observed_ms));
        byId.set(r.account_id, snapshot);
      }
      return accountIds.map((id) => byId.get(id) ?? null);
    },
  };
}

function emptySnapshot(): AudienceSnapshot {
  return { age: {}, gender: {}, country: {}, city: {}, interests: {}, observedAt: 0 };
}
