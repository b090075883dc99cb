// The shapes of Graph's successful answers both flavours read (paging, insights, times), and the
// rule that an answer of another shape ends the poll rather than being guessed at.
import { z } from 'zod';
import { ConnectorError } from '../connector.ts';

/** Reads a successful answer with `schema`; an answer of another shape ends the poll. */
export function answerOf<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConnectorError(
    'failed',
    `${what}: unexpected answer (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
  );
}

export const pagingSchema = z
  .object({
    cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
    next: z.string().optional(),
  })
  .optional();

const bucketValue = z.record(z.string(), z.number());
export const insightEntrySchema = z.object({
  name: z.string(),
  values: z
    .array(z.object({ value: z.union([z.number(), bucketValue]), end_time: z.string().optional() }))
    .optional(),
  total_value: z
    .object({
      value: z.number().optional(),
      breakdowns: z
        .array(
          z.object({
            dimension_keys: z.array(z.string()),
            results: z.array(
              z.object({ dimension_values: z.array(z.string()), value: z.number() }),
            ),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type InsightEntry = z.infer<typeof insightEntrySchema>;
export const insightsSchema = z.object({ data: z.array(insightEntrySchema) });
/** `GET /insights?ids=a,b`: one insights answer per id. */
export const multiInsightsSchema = z.record(z.string(), insightsSchema);

/** A lifetime metric's number, or undefined when Meta has no data (empty, not 0). */
export function lifetimeValue(entry: InsightEntry | undefined): number | undefined {
  const v = entry?.values?.[0]?.value ?? entry?.total_value?.value;
  return typeof v === 'number' ? v : undefined;
}

/** `2019-04-05T07:56:32+0000` (Graph's form) as epoch ms. */
export function graphTimeMs(text: string): number {
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new ConnectorError('failed', `unreadable Graph time ${text}`);
  return ms;
}
