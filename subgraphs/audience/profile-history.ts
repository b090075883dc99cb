// The profile as a slowly changing dimension: consecutive snapshots with the same values are one
// version; a version ends where the next snapshot with different values begins.

/** The values whose change starts a new version. */
export interface ProfileValues {
  handle: string;
  displayName: string;
  followers: number;
  following: number;
  postCount: number;
}

export interface ProfileSnapshot extends ProfileValues {
  observedAt: number;
}

export interface ProfileVersion extends ProfileValues {
  /** The first snapshot with these values. */
  validFrom: number;
  /** The first later snapshot with other values; null while this version is current. */
  validTo: number | null;
  /** The last snapshot of this version that showed these values. */
  lastObservedAt: number;
}

function sameValues(a: ProfileValues, b: ProfileValues): boolean {
  return (
    a.handle === b.handle &&
    a.displayName === b.displayName &&
    a.followers === b.followers &&
    a.following === b.following &&
    a.postCount === b.postCount
  );
}

/** Versions, oldest first, of snapshots in any order (at most one per instant). */
export function toVersions(snapshots: readonly ProfileSnapshot[]): ProfileVersion[] {
  // Sorted here, not trusted from the caller: late snapshots arrive in any order.
  const sorted = [...snapshots].sort((a, b) => a.observedAt - b.observedAt);
  const versions: ProfileVersion[] = [];
  for (const s of sorted) {
    const last = versions[versions.length - 1];
    if (last && sameValues(last, s)) {
      last.lastObservedAt = s.observedAt;
      continue;
    }
    if (last) last.validTo = s.observedAt;
    const { observedAt, ...values } = s;
    versions.push({ ...values, validFrom: observedAt, validTo: null, lastObservedAt: observedAt });
  }
  return versions;
}

/** The versions in effect at some instant of [from, to). */
export function versionsOverlapping(
  versions: readonly ProfileVersion[],
  range: { from: number; to: number } | undefined,
): ProfileVersion[] {
  if (!range) return [...versions];
  return versions.filter(
    (v) => v.validFrom < range.to && (v.validTo === null || v.validTo > range.from),
  );
}
