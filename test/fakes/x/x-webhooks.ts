// Account Activity API deliveries for the demo (PLATFORMS.md B.6): a CRC check of the receiver,
// then POSTs signed with `x-twitter-webhooks-signature`, tried 3 times, 3 s each.
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { XPost, XUser } from './x-data.ts';

/** `sha256=` and the base64 HMAC-SHA256 of `message` under the consumer secret. */
export function signWith(consumerSecret: string, message: string | Buffer): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(message).digest('base64')}`;
}

export interface WebhookOptions {
  consumerSecret: string;
  /** Each attempt's limit. */
  attemptTimeoutMs?: number;
  /** Waits before each attempt; three attempts within 5 minutes by default. */
  attemptDelaysMs?: number[];
}

export interface Delivery {
  url: string;
  attempts: number;
  /** The last attempt's status; undefined when it timed out or failed to connect. */
  status?: number;
  delivered: boolean;
}

/** v1.1's `created_at`, as AAA payloads carry it: `Mon Mar 26 16:33:26 +0000 2018`. */
function v11Date(ms: number): string {
  const [day, date, month, year, time] = new Date(ms).toUTCString().replace(',', '').split(' ');
  return `${day} ${month} ${date} ${time} +0000 ${year}`;
}

function v11User(user: XUser) {
  return {
    id: Number(user.id),
    id_str: user.id,
    name: user.name,
    screen_name: user.username,
    followers_count: user.followers,
  };
}

function v11Tweet(post: XPost, author: XUser) {
  return {
    created_at: v11Date(post.createdAt),
    id: Number(post.id),
    id_str: post.id,
    text: post.text,
    user: v11User(author),
    reply_count: post.metrics.reply_count,
    retweet_count: post.metrics.retweet_count,
    favorite_count: post.metrics.like_count,
    quote_count: post.metrics.quote_count,
  };
}

export function tweetCreateEnvelope(forUserId: string, post: XPost, author: XUser) {
  return { for_user_id: forUserId, tweet_create_events: [v11Tweet(post, author)] };
}

export function favoriteEnvelope(
  forUserId: string,
  post: XPost,
  author: XUser,
  liker: XUser,
  at: number,
) {
  return {
    for_user_id: forUserId,
    favorite_events: [
      {
        id: randomBytes(16).toString('hex'),
        created_at: v11Date(at),
        timestamp_ms: at,
        favorited_status: v11Tweet(post, author),
        user: v11User(liker),
      },
    ],
  };
}

export function createWebhookSender(options: WebhookOptions) {
  const {
    consumerSecret,
    attemptTimeoutMs = 3000,
    attemptDelaysMs = [0, 60_000, 240_000],
  } = options;

  /** Runs a CRC against the receiver: true when it answered the right response_token. */
  async function checkCrc(url: string): Promise<boolean> {
    const crcToken = randomBytes(24).toString('base64url');
    const target = new URL(url);
    target.searchParams.set('crc_token', crcToken);
    try {
      const res = await fetch(target, { signal: AbortSignal.timeout(10_000) });
      if (res.status !== 200) return false;
      const body = (await res.json()) as { response_token?: unknown };
      return body.response_token === signWith(consumerSecret, crcToken);
    } catch {
      return false;
    }
  }

  async function deliver(url: string, envelope: unknown): Promise<Delivery> {
    const raw = JSON.stringify(envelope);
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'x-twitter-webhooks-signature': signWith(consumerSecret, raw),
    };
    let status: number | undefined;
    let attempts = 0;
    for (const delay of attemptDelaysMs) {
      if (delay > 0) await sleep(delay);
      attempts += 1;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: raw,
          signal: AbortSignal.timeout(attemptTimeoutMs),
        });
        await res.arrayBuffer();
        status = res.status;
        if (status === 200) return { url, attempts, status, delivered: true };
      } catch {
        status = undefined;
      }
    }
    return { url, attempts, ...(status !== undefined && { status }), delivered: false };
  }

  return { checkCrc, deliver };
}
