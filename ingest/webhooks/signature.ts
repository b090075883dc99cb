// The platforms' webhook signatures: HMAC-SHA256 over the raw body, compared in constant time.
// Receivers verify with these; fakes of the platforms sign with the same functions.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function hmacSha256(key: string, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Constant-time equality of two strings of any length: both are hashed first, so neither the
 * content nor the length of the expected value leaks through timing.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Meta's `X-Hub-Signature-256` value: `sha256=` and the hex HMAC keyed with the app secret. */
export function metaSignature(appSecret: string, body: string | Buffer): string {
  return `sha256=${hmacSha256(appSecret, body).toString('hex')}`;
}

/** X's `x-twitter-webhooks-signature` value: `sha256=` and the base64 HMAC (consumer secret). */
export function xSignature(consumerSecret: string, body: string | Buffer): string {
  return `sha256=${hmacSha256(consumerSecret, body).toString('base64')}`;
}

/** X's answer to a CRC check: the same scheme over the `crc_token`. */
export function xCrcResponse(consumerSecret: string, crcToken: string): string {
  return xSignature(consumerSecret, crcToken);
}

/** TikTok's `TikTok-Signature` value: `t=<unix s>,s=<hex HMAC of "t.body">` (client secret). */
export function tiktokSignature(clientSecret: string, body: string | Buffer, at: number): string {
  const t = String(at);
  const signed = Buffer.concat([Buffer.from(`${t}.`), Buffer.from(body)]);
  return `t=${t},s=${hmacSha256(clientSecret, signed).toString('hex')}`;
}

/** The parts of a TikTok signature header, or null when it is not `t=…,s=…`. */
export function parseTiktokSignature(header: string): { t: string; s: string } | null {
  const parts = new Map<string, string>();
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    if (at > 0) parts.set(item.slice(0, at).trim(), item.slice(at + 1).trim());
  }
  const t = parts.get('t');
  const s = parts.get('s');
  return t && s && /^\d{1,12}$/.test(t) ? { t, s } : null;
}
