// X's webhooks (PLATFORMS.md B.6): the CRC check, the `x-twitter-webhooks-signature` signature,
// and deliveries of either API: Account Activity (`for_user_id`) or X Activity (`data`).
import {
  isRecord,
  nativeIdOf,
  type CheckAnswer,
  type Reading,
  type Verification,
} from './receiver.ts';
import { safeEqual, xCrcResponse, xSignature } from './signature.ts';
import { readAccountActivity } from './x-account-activity.ts';
import { readActivity } from './x-activity.ts';

export const X_SIGNATURE_HEADER = 'x-twitter-webhooks-signature';

/** `GET ?crc_token=…`: proves we hold the consumer secret. */
export function answerXCheck(query: URLSearchParams, consumerSecret: string): CheckAnswer {
  const token = query.get('crc_token');
  if (!token) {
    return {
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ error: 'crc_token is missing' }),
    };
  }
  return {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ response_token: xCrcResponse(consumerSecret, token) }),
  };
}

export function verifyXDelivery(
  header: string | undefined,
  raw: Buffer,
  consumerSecret: string,
): Verification {
  if (!header) return { ok: false, status: 401, reason: `missing ${X_SIGNATURE_HEADER} header` };
  if (!safeEqual(header.trim(), xSignature(consumerSecret, raw))) {
    return { ok: false, status: 403, reason: `${X_SIGNATURE_HEADER} does not match the body` };
  }
  return { ok: true };
}

export function readXDelivery(json: unknown, receivedAt: number): Reading {
  if (isRecord(json) && json['data'] !== undefined) {
    const read = readActivity(json['data'], receivedAt);
    return typeof read === 'string' ? { ok: false, reason: read } : { ok: true, normalised: read };
  }
  const userId = isRecord(json) ? nativeIdOf(json['for_user_id']) : undefined;
  if (!isRecord(json) || !userId) {
    return {
      ok: false,
      reason: 'body must be an Account Activity ({for_user_id}) or XAA ({data})',
    };
  }
  return { ok: true, normalised: readAccountActivity(json, userId, receivedAt) };
}
