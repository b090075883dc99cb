// Graph's error envelope, read and described one way for verdicts and token answers alike, with
// any token it echoed redacted before it can reach a message.
import { z } from 'zod';

const graphErrorSchema = z.object({
  error: z.object({
    message: z.string().default(''),
    type: z.string().optional(),
    code: z.number(),
    error_subcode: z.number().optional(),
    is_transient: z.boolean().optional(),
  }),
});
export type GraphErrorInfo = z.infer<typeof graphErrorSchema>['error'];

export function graphErrorOf(body: unknown): GraphErrorInfo | undefined {
  const parsed = graphErrorSchema.safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}

/** Long opaque strings (tokens) never reach a message, whatever an answer echoed. */
export function redact(text: string): string {
  return text
    .replace(/(access_token|fb_exchange_token|client_secret)=[^&\s]*/gi, '$1=<redacted>')
    .replace(/\b(?=[A-Za-z0-9_-]*[A-Za-z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{30,}\b/g, '<redacted>');
}

export function describeGraphError(e: GraphErrorInfo): string {
  const code = e.error_subcode === undefined ? `${e.code}` : `${e.code}/${e.error_subcode}`;
  return redact(`Meta error ${code}: ${e.message}`.slice(0, 500));
}

/** A.8: app, user, Page, custom limits, and the BUC codes 80000–80014. */
export const isThrottle = (code: number) =>
  code === 4 || code === 17 || code === 32 || code === 613 || (code >= 80000 && code <= 80014);
