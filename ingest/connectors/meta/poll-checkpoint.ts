// Where a Meta poll resumes: a pass over the posts marked by time rather than by cursor (cursors
// die with their item), and how far insights and the audience have been read.
import { z } from 'zod';
import type { PollContext } from '../connector.ts';

const passSchema = z.object({
  slot: z.number(),
  /** Unix seconds: posts older than this are not read by the pass. */
  stopAt: z.number(),
  /** Unix seconds of the oldest post emitted; the pass resumes with `until` = this. */
  resumeUntil: z.number().optional(),
  /** Unix seconds of the newest post the pass saw. */
  newest: z.number().optional(),
});
const checkpointSchema = z.object({
  pass: passSchema.nullable().default(null),
  newestSeen: z.number().optional(),
  insightsThrough: z.string().optional(),
  audienceOn: z.string().optional(),
});
export type MetaCheckpoint = z.infer<typeof checkpointSchema>;
export type Pass = z.infer<typeof passSchema>;

/** The connection's checkpoint, or a fresh start when there is none or it cannot be read. */
export function readCheckpoint(ctx: PollContext): MetaCheckpoint {
  if (ctx.checkpoint === null) return { pass: null };
  const parsed = checkpointSchema.safeParse(ctx.checkpoint);
  if (parsed.success) return parsed.data;
  ctx.logger.warn({ platform: ctx.connection.platform }, 'unreadable checkpoint: polling afresh');
  return { pass: null };
}
