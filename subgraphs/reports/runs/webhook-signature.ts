// The signature of a report webhook: HMAC-SHA256, under the definition's secret, of
// `<timestamp>.<raw body>`, sent as `x-loupe-signature: sha256=<hex>` beside
// `x-loupe-timestamp: <unix seconds>`. Signing the timestamp lets a receiver refuse replays.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-loupe-signature';
export const TIMESTAMP_HEADER = 'x-loupe-timestamp';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: the signature matches and the timestamp is within `toleranceMs` of now. */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  now: number,
  toleranceMs = 300_000,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp * 1000) > toleranceMs) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
