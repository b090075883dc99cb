// Reads the latest profile and audience snapshots per account from the OLAP store, many accounts
// per round trip.
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
  observedAt: number;
}

export function createAudienceStore(olap: Olap) {
  return {
    async profiles(orgId: string, accountIds: readonly string[]): Promise<(Profile | null)[]> {
      const rows = await olap.query<{
        account_id: string;
        handle: string;
        display_name: string;
        followers: number;
        following: number;
        post_count: number;
        observed_at: number;
      }>(
        `SELECT account_id, argMax(handle, observed_at) AS handle,
                argMax(display_name, observed_at) AS display_name,
                toFloat64(argMax(followers, observed_at)) AS followers,
                toFloat64(argMax(following, observed_at)) AS following,
                toFloat64(argMax(post_count, observed_at)) AS post_count,
                toInt64(toUnixTimestamp64Milli(max(observed_at))) AS observed_at
         FROM profiles WHERE org_id = {org:String} AND account_id IN {ids:Array(String)}
         GROUP BY account_id`,
        { org: orgId, ids: [...accountIds] },
      );
      const byId = new Map(rows.map((r) => [r.account_id, r]));
      return accountIds.map((id) => {
        const r = byId.get(id);
        return r
          ? {
              handle: r.handle,
              displayName: r.display_name,
              followers: r.followers,
              following: r.following,
              postCount: r.post_count,
              observedAt: Number(r.observed_at),
            }
          : null;
      });
    },

    async audiences(
      orgId: string,
      accountIds: readonly string[],
    ): Promise<(AudienceSnapshot | null)[]> {
      const rows = await olap.query<
        Record<Dimension, Record<string, number>> & { account_id: string; observed_at: number }
      >(
        `SELECT account_id, ${DIMENSIONS.map((d) => `argMax(${d}, observed_at) AS ${d}`).join(', ')},
                toInt64(toUnixTimestamp64Milli(max(observed_at))) AS observed_at
         FROM audience WHERE org_id = {org:String} AND account_id IN {ids:Array(String)}
         GROUP BY account_id`,
        { org: orgId, ids: [...accountIds] },
      );
      const byId = new Map(rows.map((r) => [r.account_id, r]));
      return accountIds.map((id) => {
        const r = byId.get(id);
        if (!r) return null;
        const { account_id: _, observed_at, ...dimensions } = r;
        return { ...dimensions, observedAt: Number(observed_at) };
      });
    },
  };
}

export type AudienceStore = ReturnType<typeof createAudienceStore>;
