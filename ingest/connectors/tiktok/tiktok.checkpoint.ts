// What a TikTok poll keeps between pages and polls. The video cursor is a timestamp, so a pass
// stored mid-pagination can be continued later, even by another replica, from where it stopped.
import { z } from 'zod';
import type { Checkpoint } from '../connector.ts';

const passSchema = z.object({
  /** The slot of the poll that began the pass: totals read in it all carry this one. */
  slot: z.number().int(),
  /** Where the next page starts (Unix ms, exclusive); null before the first page. */
  cursor: z.number().int().nonnegative().nullable(),
  /** Videos posted before this (Unix ms) are not read by the pass. */
  stopAt: z.number(),
});
export type Pass = z.infer<typeof passSchema>;

const checkpointSchema = z.object({
  pass: passSchema.nullable().default(null),
  /** The newest video's create time seen by any pass (Unix ms). */
  newestSeen: z.number().int().optional(),
});
export type TikTokCheckpoint = z.infer<typeof checkpointSchema>;

/** The stored checkpoint, or a fresh start when there is none or it no longer reads. */
export function readCheckpoint(
  stored: Checkpoint | null,
): { ok: true; value: TikTokCheckpoint } | { ok: false; value: TikTokCheckpoint } {
  if (stored === null) return { ok: true, value: { pass: null } };
  const parsed = checkpointSchema.safeParse(stored);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, value: { pass: null } };
}

export function toCheckpoint(value: TikTokCheckpoint): Checkpoint {
  return {
    pass: value.pass,
    ...(value.newestSeen !== undefined && { newestSeen: value.newestSeen }),
  };
}

export interface PassWindow {
  /** Recent videos' totals are read again by every poll, back this far. */
  refreshWindowMs: number;
  /** How far back the first poll of a connection reads. */
  horizonMs: number;
}

/**
 * A new pass's end: everything since the newest video seen (nothing new is missed) and at
 * least the refresh window (recent totals still move); the horizon when nothing was seen.
 */
export function stopAtFor(newestSeen: number | undefined, now: number, w: PassWindow): number {
  if (newestSeen === undefined) return now - w.horizonMs;
  return Math.min(newestSeen, now - w.refreshWindowMs);
}
