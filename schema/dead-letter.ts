// A message of the dead-letter topic (`events.dead-letter`): one event message that a pipeline
// stage could not apply, with the stage, the reason and enough of the original to replay it to
// that stage once the cause is fixed (`npm run dead-letters`).
import { z } from 'zod';

export const DEAD_LETTER_STAGES = ['olap-sink', 'speed-layer', 'text-pipeline'] as const;
export type DeadLetterStage = (typeof DEAD_LETTER_STAGES)[number];

export const deadLetterSchema = z.object({
  /** The stage that gave up on the message; a replay feeds it to that stage only. */
  stage: z.enum(DEAD_LETTER_STAGES),
  /** Why: the envelope problem, or the store's error for the message alone. */
  reason: z.string(),
  /** Where the original sits on the bus. */
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  /** The original's partition key and value, byte for byte. */
  key: z.string(),
  original: z.string(),
  /** Epoch ms when the stage gave up. */
  failedAt: z.number().int().nonnegative(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Reads a dead-letter message back, or says why it cannot. */
export function parseDeadLetter(
  raw: string,
): { ok: true; letter: DeadLetter } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'dead letter is not JSON' };
  }
  const parsed = deadLetterSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues[0]?.message ?? 'invalid' };
  return { ok: true, letter: parsed.data };
}
