// The fake's accounts and videos, generated from a seed so a test (or a benchmark of thousands
// of accounts) gets the same data every run, and materialised only when first asked for.
import { hashText, seeded } from '../seeded-random.ts';

/** A video as the fake stores it: the v2 video object's fields (PLATFORMS.md C.2). */
export interface VideoRecord {
  id: string;
  /** Unix seconds. */
  create_time: number;
  cover_image_url: string;
  share_url: string;
  video_description: string;
  duration: number;
  height: number;
  width: number;
  title: string;
  embed_html: string;
  embed_link: string;
  like_count: number;
  comment_count: number;
  share_count: number;
  view_count: number;
  /** Not a v2 field: private videos are never listed (the API answers public videos only). */
  isPublic: boolean;
}

export interface UserRecord {
  open_id: string;
  union_id: string;
  avatar_url: string;
  avatar_url_100: string;
  avatar_large_url: string;
  display_name: string;
  bio_description: string;
  profile_deep_link: string;
  is_verified: boolean;
  username: string;
  follower_count: number;
  following_count: number;
  likes_count: number;
  video_count: number;
}

export interface Account {
  user: UserRecord;
  /** Newest first, create times distinct. */
  videos: VideoRecord[];
}

export interface UserSeed {
  openId: string;
  username?: string;
  displayName?: string;
  /** How many videos, public and private; default 30. */
  videoCount?: number;
  /** The newest video's time, epoch ms; default one hour before the fake's clock. */
  newestAt?: number;
  /** Mean gap between two videos; default one day. */
  gapMs?: number;
  /** Share of the videos that are private, so pages come back shorter than asked; default 0. */
  privateShare?: number;
  /** Mixed with the open_id into the generator's seed; default 1. */
  seed?: number;
}

/** Many accounts at once, `${prefix}${i}` for i in 0..count-1, each built on first use. */
export interface Population extends Omit<UserSeed, 'openId' | 'username' | 'displayName'> {
  count: number;
  prefix?: string;
}

const WORDS = ['sunset', 'recipe', 'dance', 'cat', 'tutorial', 'travel', 'prank', 'duet', 'vlog'];

export function generateAccount(seed: UserSeed, now: number): Account {
  const random = seeded(hashText(`${seed.seed ?? 1}|${seed.openId}`));
  const count = seed.videoCount ?? 30;
  const gapS = Math.max(1, (seed.gapMs ?? 86_400_000) / 1000);
  const username = seed.username ?? `user.${seed.openId.replace(/[^\w.]/g, '').slice(0, 20)}`;
  const videos: VideoRecord[] = [];
  let time = Math.floor((seed.newestAt ?? now - 3_600_000) / 1000);
  for (let i = 0; i < count; i++) {
    if (i > 0) time -= Math.max(1, Math.round(gapS * (0.5 + random())));
    const isPublic = random() >= (seed.privateShare ?? 0);
    videos.push(generateVideo(random, username, time, isPublic));
  }
  const views = Math.floor(random() * 5_000_000);
  return {
    user: {
      open_id: seed.openId,
      union_id: `union-${hashText(seed.openId).toString(16)}`,
      avatar_url: `https://fake-cdn.tiktok.test/avatar/${seed.openId}.jpeg`,
      avatar_url_100: `https://fake-cdn.tiktok.test/avatar/${seed.openId}-100.jpeg`,
      avatar_large_url: `https://fake-cdn.tiktok.test/avatar/${seed.openId}-large.jpeg`,
      display_name: seed.displayName ?? `${WORDS[Math.floor(random() * WORDS.length)]} fan ✨`,
      bio_description: 'made by the Loupe TikTok fake',
      profile_deep_link: `https://www.tiktok.com/@${username}`,
      is_verified: random() < 0.1,
      username,
      follower_count: Math.floor(views / 10),
      following_count: Math.floor(random() * 2000),
      likes_count: videos.reduce((sum, v) => sum + v.like_count, 0),
      video_count: videos.filter((v) => v.isPublic).length,
    },
    videos,
  };
}

export function generateVideo(
  random: () => number,
  username: string,
  createTime: number,
  isPublic: boolean,
): VideoRecord {
  // Real item ids carry their second in the high 32 bits; the low bits are random here.
  const id = ((BigInt(createTime) << 32n) + BigInt(Math.floor(random() * 2 ** 32))).toString();
  const views = Math.floor(100 * 10 ** (random() * 4));
  const likes = Math.floor(views * (0.02 + 0.1 * random()));
  const word = WORDS[Math.floor(random() * WORDS.length)]!;
  return {
    id,
    create_time: createTime,
    cover_image_url: `https://fake-cdn.tiktok.test/cover/${id}.jpeg?x-expires=${createTime + 21_600}`,
    share_url: `https://www.tiktok.com/@${username}/video/${id}`,
    video_description: `A ${word} video #${word}`,
    duration: 5 + Math.floor(random() * 170),
    height: 1920,
    width: 1080,
    title: random() < 0.2 ? '' : `My ${word} 🎬`,
    embed_html: `<blockquote class="tiktok-embed" data-video-id="${id}"></blockquote>`,
    embed_link: `https://www.tiktok.com/player/v1/${id}`,
    like_count: likes,
    comment_count: Math.floor(likes * 0.05 * random()),
    share_count: Math.floor(likes * 0.1 * random()),
    view_count: views,
    isPublic,
  };
}

/** Accounts by open_id: added one by one, or as populations generated when first looked up. */
export class AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly populations: (Population & { prefix: string })[] = [];
  private seq = 0;

  constructor(private readonly now: () => number) {}

  add(seed: UserSeed): Account {
    const account = generateAccount(seed, this.now());
    this.accounts.set(seed.openId, account);
    return account;
  }

  /** Registers `count` accounts without building any; answers their open_ids' prefix. */
  addPopulation(population: Population): string {
    const prefix = population.prefix ?? `pop${this.populations.length}-`;
    this.populations.push({ ...population, prefix });
    return prefix;
  }

  get(openId: string): Account | undefined {
    const known = this.accounts.get(openId);
    if (known) return known;
    for (const p of this.populations) {
      if (!openId.startsWith(p.prefix)) continue;
      const index = openId.slice(p.prefix.length);
      if (!/^(0|[1-9]\d*)$/.test(index) || Number(index) >= p.count) continue;
      const { count: _count, prefix: _prefix, ...seed } = p;
      return this.add({ ...seed, openId });
    }
    return undefined;
  }

  /** A new newest video, posted now (or at `at`), for tests of incremental polls. */
  post(openId: string, at = this.now(), overrides: Partial<VideoRecord> = {}): VideoRecord {
    const account = this.require(openId);
    const newest = account.videos[0]?.create_time ?? 0;
    const time = Math.max(Math.floor(at / 1000), newest + 1);
    const random = seeded(hashText(`${openId}|post|${++this.seq}`));
    const video = { ...generateVideo(random, account.user.username, time, true), ...overrides };
    account.videos.unshift(video);
    account.user.video_count += video.isPublic ? 1 : 0;
    return video;
  }

  require(openId: string): Account {
    const account = this.get(openId);
    if (!account) throw new Error(`the fake has no TikTok user ${openId}`);
    return account;
  }
}
