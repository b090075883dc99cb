// `LOUPE_DEMO_SOURCE=connectors`: the demo's data arrives the way a real deployment gets it. Local
// fakes of Facebook, Instagram, X and TikTok (test/fakes, which follow each platform's documented
// API) hold Northwind's four accounts; they are connected through the GraphQL API with tokens the
// fakes issued, the connectors poll them, and the fakes go on publishing posts, growing counters
// and delivering signed webhooks to the collector's /webhooks routes while the demo runs.
import { startMetaFake, type MetaFake } from '../../test/fakes/meta/meta.fake.ts';
import { startTikTokFake, type TikTokFake } from '../../test/fakes/tiktok/tiktok.fake.ts';
import { DEFAULT_X_CLIENT, startXFake, type XFake } from '../../test/fakes/x/x.fake.ts';
import { xSignature } from '../../ingest/webhooks/signature.ts';
import { BRANDS, MAIN_BRAND } from './demo-accounts.ts';

const DAY = 86_400_000;
/** What the demo's X app signs webhooks with (the fake X has no secret of its own). */
const X_CONSUMER_SECRET = 'demo-x-consumer-secret';
/** Polls of the demo's accounts: often enough to watch, far inside every fake's limits. */
const DEMO_POLL_SECONDS = 15;

export interface DemoPlatforms {
  /** Settings that point the product at the fakes; they win over the environment's. */
  env: Record<string, string>;
  urls: { meta: string; x: string; tiktok: string };
  /** Connects Northwind's four accounts through the gateway, with tokens the fakes issued. */
  connect(gateway: string, apiKey: string): Promise<void>;
  /** Starts the platforms' own activity: posts, engagement, comments pushed by webhook. */
  animate(ingestUrl: string, onError: (error: unknown) => void): void;
  close(): Promise<void>;
}

interface DemoIds {
  page: string;
  instagram: string;
  x: string;
  tiktok: string;
}

export async function startDemoPlatforms(): Promise<DemoPlatforms> {
  const brand = BRANDS.find((b) => b.key === MAIN_BRAND)!;
  const now = Date.now();
  const meta = await startMetaFake();
  const x = await startXFake();
  const tiktok = await startTikTokFake();
  const ids: DemoIds = {
    page: meta.addPage({
      username: brand.handle,
      name: brand.name,
      followers: brand.followers.facebook,
      posts: 45,
      spanDays: 90,
    }),
    instagram: meta.addInstagramUser({
      username: brand.handle,
      name: brand.name,
      followers: brand.followers.instagram,
      posts: 54,
      spanDays: 90,
    }),
    x: x.addUser({
      username: brand.handle,
      name: brand.name,
      posts: 90,
      spacingMs: DAY,
      newestAt: now - 3_600_000,
      followers: brand.followers.x,
    }).id,
    tiktok: tiktok.addUser({
      openId: 'northwind-open-id',
      username: brand.handle,
      displayName: brand.name,
      videoCount: 40,
      gapMs: 2 * DAY,
    }),
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    env: {
      LOUPE_FACEBOOK_GRAPH_URL: meta.url,
      LOUPE_INSTAGRAM_GRAPH_URL: meta.url,
      LOUPE_META_APP_ID: meta.appId,
      LOUPE_META_APP_SECRET: meta.appSecret,
      LOUPE_X_API_URL: x.url,
      LOUPE_X_CLIENT_ID: DEFAULT_X_CLIENT.id,
      LOUPE_X_CLIENT_SECRET: DEFAULT_X_CLIENT.secret,
      LOUPE_X_CONSUMER_SECRET: X_CONSUMER_SECRET,
      LOUPE_TIKTOK_API_URL: tiktok.url,
      LOUPE_TIKTOK_CLIENT_KEY: tiktok.clientKey,
      LOUPE_TIKTOK_CLIENT_SECRET: tiktok.clientSecret,
      LOUPE_POLL_REALTIME_SECONDS: String(DEMO_POLL_SECONDS),
    },
    urls: { meta: meta.url, x: x.url, tiktok: tiktok.url },
    connect: (gateway, apiKey) => connectDemoAccounts(gateway, apiKey, { meta, x, tiktok }, ids),
    animate(ingestUrl, onError) {
      let turn = 0;
      timer = setInterval(() => {
        turn += 1;
        animateOnce({ meta, x, tiktok }, ids, ingestUrl, turn).catch(onError);
      }, 5000);
    },
    async close() {
      clearInterval(timer);
      await Promise.all([meta.close(), x.close(), tiktok.close()]);
    },
  };
}

interface Fakes {
  meta: MetaFake;
  x: XFake;
  tiktok: TikTokFake;
}

async function connectDemoAccounts(
  gateway: string,
  apiKey: string,
  fakes: Fakes,
  ids: DemoIds,
): Promise<void> {
  const pageToken = fakes.meta.issueToken(ids.page);
  const igToken = fakes.meta.issueToken(ids.instagram);
  const xToken = fakes.x.issueToken(ids.x);
  const ttToken = fakes.tiktok.issueToken(ids.tiktok);
  const grants = [
    { accountId: 'fb-northwind', platform: 'FACEBOOK', platformAccountId: ids.page, ...pageToken },
    {
      accountId: 'ig-northwind',
      platform: 'INSTAGRAM',
      platformAccountId: ids.instagram,
      ...igToken,
    },
    { accountId: 'x-northwind', platform: 'X', platformAccountId: ids.x, ...xToken },
    {
      accountId: 'tt-northwind',
      platform: 'TIKTOK',
      platformAccountId: ids.tiktok,
      accessToken: ttToken.accessToken,
      refreshToken: ttToken.refreshToken,
      expiresAt: ttToken.expiresAt,
      refreshExpiresAt: ttToken.refreshExpiresAt,
    },
  ];
  for (const grant of grants) {
    const input = {
      accountId: grant.accountId,
      platform: grant.platform,
      platformAccountId: grant.platformAccountId,
      accessToken: grant.accessToken,
      ...(grant.refreshToken && { refreshToken: grant.refreshToken }),
      ...(grant.expiresAt !== undefined && { expiresAt: new Date(grant.expiresAt).toISOString() }),
      ...('refreshExpiresAt' in grant &&
        grant.refreshExpiresAt !== undefined && {
          refreshExpiresAt: new Date(grant.refreshExpiresAt).toISOString(),
        }),
      tier: 'REALTIME',
    };
    const res = await fetch(`${gateway}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({
        query: 'mutation($input: ConnectAccountInput!) { connectAccount(input: $input) { state } }',
        variables: { input },
      }),
    });
    const body = (await res.json()) as { errors?: { message: string }[] };
    if (body.errors?.length) {
      throw new Error(`connecting ${grant.accountId}: ${body.errors[0]!.message}`);
    }
  }
}

const FAN_COMMENTS = [
  'This cold brew is unreal, thank you!',
  'Best latte in town, honestly',
  'Waited 20 minutes and it was lukewarm :(',
  'Can you bring the maple oat latte back?',
  'Love the new cups!',
];

/** One turn of the platforms' own life: engagement grows, now and then a post or a comment. */
async function animateOnce(fakes: Fakes, ids: DemoIds, ingestUrl: string, turn: number) {
  // The fakes hand out their records live: growing them is engagement arriving between polls.
  const tiktokVideo = fakes.tiktok.truth(ids.tiktok).videos[0];
  if (tiktokVideo) {
    fakes.tiktok.setCounts(ids.tiktok, tiktokVideo.id, {
      like_count: tiktokVideo.like_count + 40 + (turn % 7) * 9,
      view_count: tiktokVideo.view_count + 900,
    });
  }
  const xPost = fakes.x.truth(ids.x).posts[0];
  if (xPost) {
    xPost.metrics.like_count += 3 + (turn % 5);
    xPost.metrics.impression_count += 250;
  }
  for (const id of [ids.page, ids.instagram]) {
    const post = fakes.meta.truth(id).posts[0];
    if (post) {
      post.counters.likes += 5 + (turn % 3);
      post.counters.views += 400;
    }
  }
  if (turn % 12 === 0) {
    // About once a minute one of the platforms has a new post.
    switch ((turn / 12) % 4) {
      case 0:
        fakes.x.addPost(ids.x, {
          text: 'Fresh roast Friday: the Sound Fog is back #NorthwindCoffee',
        });
        break;
      case 1:
        fakes.tiktok.postVideo(ids.tiktok);
        break;
      case 2:
        fakes.meta.publish(ids.instagram, { caption: 'Latte art, round two #NorthwindCoffee' });
        break;
      default:
        fakes.meta.publish(ids.page, { caption: 'New hours at our Seattle roastery' });
    }
  }
  if (turn % 4 === 0) {
    // Comments are pushed, signed, as the platforms' webhooks push them.
    const text = FAN_COMMENTS[turn % FAN_COMMENTS.length]!;
    if ((turn / 4) % 2 === 0 && xPost) await deliverXReply(ingestUrl, ids.x, xPost.id, text, turn);
    else await deliverInstagramComment(fakes.meta, ingestUrl, ids.instagram, text, turn);
  }
}

async function deliverXReply(
  ingestUrl: string,
  userId: string,
  postId: string,
  text: string,
  turn: number,
) {
  const body = JSON.stringify({
    for_user_id: userId,
    tweet_create_events: [
      {
        id_str: `19${String(Date.now())}${String(turn).padStart(4, '0')}`,
        created_at: new Date().toUTCString().replace('GMT', '+0000'),
        text: `@northwindcoffee ${text}`,
        in_reply_to_status_id_str: postId,
        in_reply_to_user_id_str: userId,
        user: { id_str: `fan-${turn % 17}`, screen_name: `coffee_fan_${turn % 17}` },
      },
    ],
  });
  const res = await fetch(`${ingestUrl}/webhooks/x`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-twitter-webhooks-signature': xSignature(X_CONSUMER_SECRET, body),
    },
    body,
  });
  if (!res.ok) throw new Error(`the X webhook was answered ${res.status}: ${await res.text()}`);
}

async function deliverInstagramComment(
  meta: MetaFake,
  ingestUrl: string,
  igUserId: string,
  text: string,
  turn: number,
) {
  const media = meta.truth(igUserId).posts[0];
  if (!media) return;
  const status = await meta.deliverWebhook(`${ingestUrl}/webhooks/meta`, {
    object: 'instagram',
    entry: [
      {
        id: igUserId,
        time: Math.floor(Date.now() / 1000),
        changes: [
          {
            field: 'comments',
            value: {
              id: `demo-comment-${Date.now()}-${turn}`,
              from: { id: `fan-${turn % 13}`, username: `latte_lover_${turn % 13}` },
              text,
              media: { id: media.id, media_product_type: 'FEED' },
            },
          },
        ],
      },
    ],
  });
  if (status !== 200) throw new Error(`the Meta webhook was answered ${status}`);
}
