// Signed webhook deliveries as TikTok sends them (PLATFORMS.md C.6): a JSON body whose `content`
// is itself a JSON string, signed `t=<unix s>,s=<hex HMAC-SHA256(client_secret, t.body)>`, and
// sent again with backoff until a 200 (TikTok keeps trying for up to 72 hours).
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export function signTikTokWebhook(clientSecret: string, unixSeconds: number, rawBody: string) {
  const s = createHmac('sha256', clientSecret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},s=${s}`;
}

export interface WebhookDelivery {
  url: string;
  event: string;
  openId: string;
  /** Sent as a serialized JSON string, as TikTok does. */
  content: Record<string, unknown>;
  /** Tries before giving up; default 5. */
  attempts?: number;
  /** First pause between tries, doubled each time; default 50 ms (TikTok's are much longer). */
  backoffMs?: number;
}

export interface DeliveryResult {
  /** The last status received, or 0 when nothing answered. */
  status: number;
  attempts: number;
  body: string;
}

export async function deliverWebhook(
  delivery: WebhookDelivery,
  app: { clientKey: string; clientSecret: string },
  now: () => number,
): Promise<DeliveryResult> {
  const createTime = Math.floor(now() / 1000);
  const body = JSON.stringify({
    client_key: app.clientKey,
    event: delivery.event,
    create_time: createTime,
    user_openid: delivery.openId,
    content: JSON.stringify(delivery.content),
  });
  const attempts = delivery.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    try {
      // Each try is signed afresh: a receiver checks the timestamp is recent.
      const t = Math.floor(now() / 1000);
      const res = await request(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'tiktok-signature': signTikTokWebhook(app.clientSecret, t, body),
        },
        body,
      });
      await res.body.dump();
      status = res.statusCode;
    } catch {
      // Nothing answered: tried again like a refusal.
    }
    if (status === 200 || attempt >= attempts) return { status, attempts: attempt, body };
    await sleep((delivery.backoffMs ?? 50) * 2 ** (attempt - 1));
  }
}
