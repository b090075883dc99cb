// TikTok's webhooks (PLATFORMS.md C.6): `TikTok-Signature: t=…,s=…` over `t + "." + body`, with
// a freshness window TikTok leaves to us, and `{event, user_openid, content: "<JSON>"}` bodies.
// No TikTok event carries analytics: they revoke a grant or tell a poll to look.
import { isRecord, type Normalised, type Reading, type Verification } from './receiver.ts';
import { hmacSha256, parseTiktokSignature, safeEqual } from './signature.ts';

export const TIKTOK_SIGNATURE_HEADER = 'tiktok-signature';
export const DEFAULT_TIKTOK_TOLERANCE_MS = 5 * 60_000;

/** The meaning of `authorization.removed`'s reason code. */
export const REMOVAL_REASONS: Record<number, string> = {
  0: 'unknown reason',
  1: 'the user disconnected the app',
  2: 'the account was deleted',
  3: "the user's age changed",
  4: 'the account was banned',
  5: 'the developer revoked the authorization',
};

export function verifyTiktokDelivery(
  header: string | undefined,
  raw: Buffer,
  clientSecret: string,
  now: number,
  toleranceMs: number,
): Verification {
  if (!header)
    return { ok: false, status: 401, reason: `missing ${TIKTOK_SIGNATURE_HEADER} header` };
  const parts = parseTiktokSignature(header);
  if (!parts)
    return { ok: false, status: 403, reason: `${TIKTOK_SIGNATURE_HEADER} is not t=…,s=…` };
  const signed = Buffer.concat([Buffer.from(`${parts.t}.`), raw]);
  if (!safeEqual(parts.s.toLowerCase(), hmacSha256(clientSecret, signed).toString('hex'))) {
    return { ok: false, status: 403, reason: `${TIKTOK_SIGNATURE_HEADER} does not match the body` };
  }
  // A genuine signature replayed later is refused too: the timestamp is inside the signature.
  if (Math.abs(now - Number(parts.t) * 1000) > toleranceMs) {
    return {
      ok: false,
      status: 403,
      reason: `stale signature: t=${parts.t} is more than ${toleranceMs / 1000} s from our clock`,
    };
  }
  return { ok: true };
}

const ACTIVITY = /^(video\.publish\.completed|post\.publish\..+)$/;

export function readTiktokDelivery(json: unknown): Reading {
  if (!isRecord(json) || typeof json['event'] !== 'string') {
    return { ok: false, reason: 'body must be {"event": string, "user_openid": string, …}' };
  }
  const event = json['event'];
  const openId = typeof json['user_openid'] === 'string' ? json['user_openid'] : '';
  const out: Normalised = { events: [], revoked: [], activity: [], skipped: [] };
  if (openId.length === 0) {
    out.skipped.push(`tiktok: ${event} without user_openid`);
    return { ok: true, normalised: out };
  }
  const ref = { platform: 'tiktok' as const, platformAccountId: openId };
  if (event === 'authorization.removed') {
    const code = reasonCode(json['content']);
    const meaning = REMOVAL_REASONS[code ?? 0] ?? `reason code ${code}`;
    out.revoked.push({ ...ref, reason: `authorization removed: ${meaning}` });
  } else if (ACTIVITY.test(event)) {
    // A post is out (or its state changed): the poll reads its object and counters.
    out.activity.push(ref);
  } else {
    out.skipped.push(`tiktok: ${event} is not acted on`);
  }
  return { ok: true, normalised: out };
}

/** `content` is a JSON string such as `{"reason": 1}`; undefined when it says nothing readable. */
function reasonCode(content: unknown): number | undefined {
  if (typeof content !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(content);
    const reason = isRecord(parsed) ? parsed['reason'] : undefined;
    return typeof reason === 'number' && Number.isInteger(reason) ? reason : undefined;
  } catch {
    return undefined;
  }
}
