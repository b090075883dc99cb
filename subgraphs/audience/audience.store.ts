// Reads profile and audience snapshots from the OLAP store, many accounts per round trip. Every
// snapshot is kept (profile_snapshots, audience_snapshots), so any instant can be answered; two
// snapshots at the same instant are one, the one with the greater event id (a stable choice).
import type { Olap } from '../../lib/olap/olap.port.ts';
import type { ProfileSnapshot } from './profile-history.ts';

export const DIMENSIONS = ['age', 'gender', 'country', 'city', 'interests'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** One dimension as last reported at or before the instant asked. */
export interface DimensionSnapshot {
  buckets: Record<string, number>;
  observedAt: number;
  /** Followers of the profile in effect at `observedAt`; null without a profile snapshot by then. */
  followers: number | null;
}

export interface AudienceSnapshot {
  dimensions: Partial<Record<Dimension, DimensionSnapshot>>;
  /** The latest observation of any dimension. */
  observedAt: number;
}

export interface AudienceStore {
  /** The latest profile snapshot at or before `asOf` (null: the latest of all) per account. */
  profiles(
    orgId: string,
    accountIds: readonly string[],
    asOf: number | null,
  ): Promise<(ProfileSnapshot | null)[]>;
  /** Every profile snapshot per account, oldest first. */
  profileSnapshots(orgId: string, accountIds: readonly string[]): Promise<ProfileSnapshot[][]>;
  /** Each dimension's latest snapshot at or before `asOf` (null: the latest) per account. */
  audiences(
    orgId: string,
    accountIds: readonly string[],
    asOf: number | null,
  ): Promise<(AudienceSnapshot | null)[]>;
}

/** 64-bit integers arrive as strings from a ClickHouse server and as numbers from chDB. */
type Int64 = number | string;

interface ProfileRow {
  account_id: string;
  handle: string;
  display_name: string;
  followers: Int64;
  following: Int64;
  post_count: Int64;
  observed_ms: Int64;
}

const PROFILE_COLUMNS = `account_id, handle, display_name, followers, following, post_count,
  toUnixTimestamp64Milli(observed_at) AS observed_ms`;
/** One snapshot per account and instant: the greatest event id. */
const ONE_PER_INSTANT =
  'ORDER BY account_id, observed_at, event_id DESC LIMIT 1 BY account_id, observed_at';
const AS_OF = "observed_at <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')";

function toSnapshot(r: ProfileRow): ProfileSnapshot {
  return {
    handle: r.handle,
    displayName: r.display_name,
    followers: Number(r.followers),
    following: Number(r.following),
    postCount: Number(r.post_count),
    observedAt: Number(r.observed_ms),
  };
}

function scope(orgId: string, accountIds: readonly string[], asOf: number | null) {
  const params = { org: orgId, accounts: [...new Set(accountIds)] };
  return asOf === null
    ? { params, asOf: '' }
    : { params: { ...params, asOf }, asOf: `AND ${AS_OF}` };
}

export function createAudienceStore(olap: Olap): AudienceStore {
  return {
    async profiles(orgId, accountIds, asOf) {
      const s = scope(orgId, accountIds, asOf);
      const rows = await olap.query<ProfileRow>(
        `SELECT ${PROFILE_COLUMNS} FROM profile_snapshots
         WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)} ${s.asOf}
         ORDER BY account_id, observed_at DESC, event_id DESC
         LIMIT 1 BY account_id`,
        s.params,
      );
      const byId = new Map(rows.map((r) => [r.account_id, toSnapshot(r)]));
      return accountIds.map((id) => byId.get(id) ?? null);
    },

    async profileSnapshots(orgId, accountIds) {
      const s = scope(orgId, accountIds, null);
      const rows = await olap.query<ProfileRow>(
        `SELECT ${PROFILE_COLUMNS} FROM profile_snapshots
         WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
         ${ONE_PER_INSTANT}`,
        s.params,
      );
      const byId = new Map<string, ProfileSnapshot[]>();
      for (const r of rows) {
        const list = byId.get(r.account_id) ?? [];
        list.push(toSnapshot(r));
        byId.set(r.account_id, list);
      }
      return accountIds.map((id) => byId.get(id) ?? []);
    },

    async audiences(orgId, accountIds, asOf) {
      const s = scope(orgId, accountIds, asOf);
      // ASOF JOIN: the profile snapshot at or before each dimension's snapshot gives its followers.
      const rows = await olap.query<{
        account_id: string;
        dimension: Dimension;
        buckets: Record<string, number>;
        observed_ms: Int64;
        followers: Int64 | null;
      }>(
        `SELECT a.account_id AS account_id, a.dimension AS dimension, a.buckets AS buckets,
                toUnixTimestamp64Milli(a.observed_at) AS observed_ms, p.followers AS followers
         FROM (
           SELECT account_id, dimension, buckets, observed_at FROM audience_snapshots
           WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)} ${s.asOf}
           ORDER BY account_id, dimension, observed_at DESC, event_id DESC
           LIMIT 1 BY account_id, dimension
         ) AS a
         ASOF LEFT JOIN (
           SELECT account_id, observed_at, followers FROM profile_snapshots
           WHERE org_id = {org:String} AND account_id IN {accounts:Array(String)}
           ${ONE_PER_INSTANT}
         ) AS p
         ON a.account_id = p.account_id AND a.observed_at >= p.observed_at
         SETTINGS join_use_nulls = 1`,
        s.params,
      );
      const byId = new Map<string, AudienceSnapshot>();
      for (const r of rows) {
        const snapshot = byId.get(r.account_id) ?? { dimensions: {}, observedAt: 0 };
        const observedAt = Number(r.observed_ms);
        snapshot.dimensions[r.dimension] = {
          buckets: r.buckets,
          observedAt,
          followers: r.followers === null ? null : Number(r.followers),
        };
        snapshot.observedAt = Math.max(snapshot.observedAt, observedAt);
        byId.set(r.account_id, snapshot);
      }
      return accountIds.map((id) => byId.get(id) ?? null);
    },
  };
}
