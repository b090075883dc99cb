// The fake's accounts and posts: seeded, so a test or a benchmark gets the same data from the
// same seed, and a population of thousands of users costs nothing until one of them is read.
import { hashText, seeded } from '../seeded-random.ts';

/** Counters every post carries in `public_metrics`. */
export interface PublicMetrics {
  retweet_count: number;
  reply_count: number;
  like_count: number;
  quote_count: number;
  bookmark_count: number;
  impression_count: number;
}

/** Counters only the author sees, for posts under 30 days old. */
export interface PrivateMetrics {
  url_link_clicks: number;
  user_profile_clicks: number;
}

export type PostKind = 'post' | 'reply' | 'repost';

/** A post as the fake holds it: the ground truth a test recounts against. */
export interface XPost {
  id: string;
  authorId: string;
  text: string;
  /** Epoch ms. */
  createdAt: number;
  kind: PostKind;
  metrics: PublicMetrics;
  privateMetrics: PrivateMetrics;
}

export interface XUser {
  id: string;
  username: string;
  name: string;
  followers: number;
  following: number;
  listed: number;
  likes: number;
  /** Epoch ms. */
  createdAt: number;
  /** Newest first, by id (ids grow with time, as X's snowflakes do). */
  posts: XPost[];
}

export interface UserSeed {
  /** Digits, as X user ids are; derived from the seed when absent. */
  id?: string;
  username?: string;
  name?: string;
  /** How many posts to generate, back in time from `newestAt`. */
  posts?: number;
  /** The newest post's time (epoch ms); the fake's clock when absent. */
  newestAt?: number;
  /** Mean time between two posts. */
  spacingMs?: number;
  /** Share of generated posts that are replies, 0–1. */
  replyShare?: number;
  followers?: number;
  following?: number;
  seed?: number | string;
}

/** X's epoch for snowflake ids (2010-11-04T01:42:54.657Z). */
const SNOWFLAKE_EPOCH = 1288834974657n;

/** A snowflake-shaped id: time in the high bits, so ids sort as their posts' times do. */
export function snowflakeAt(ms: number, sequence: number): string {
  return (
    (BigInt(Math.floor(ms)) - SNOWFLAKE_EPOCH) * 4194304n +
    BigInt(sequence & 0x3fffff)
  ).toString();
}

/** Compares ids as numbers: they are up to 19 digits, beyond a double's precision. */
export function compareIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Seeded numbers for test data; a text seed (an id, a time) is hashed first. */
export function seededRandom(seed: number | string): () => number {
  return seeded(typeof seed === 'number' ? seed : hashText(seed));
}

// Emoji, an accent and a newline, so a connector's text handling is exercised too.
const WORDS = [
  'launch',
  'today',
  'thread',
  'metrics',
  'café',
  'weekend',
  'new',
  'product',
  'team',
  'thanks',
  'update',
  'live',
  'now',
  'read',
  'more',
  '🚀',
  '📈',
  'hello',
  'world',
  'soon',
];

function sentence(random: () => number): string {
  const length = 3 + Math.floor(random() * 12);
  const words = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  if (random() < 0.1) words.splice(1, 0, '\n');
  return words.join(' ');
}

function metricsFor(random: () => number): PublicMetrics {
  const impressions = Math.floor(random() ** 2 * 50_000);
  const share = (rate: number) => Math.floor(impressions * rate * random());
  return {
    impression_count: impressions,
    like_count: share(0.05),
    reply_count: share(0.01),
    retweet_count: share(0.01),
    quote_count: share(0.003),
    bookmark_count: share(0.004),
  };
}

/** Builds a user and its posts from a seed; the same seed gives the same user. */
export function generateUser(spec: UserSeed, now: number): XUser {
  const seed = spec.seed ?? spec.id ?? spec.username ?? 'x';
  const random = seededRandom(String(seed));
  const id = spec.id ?? String(1_000_000 + Math.floor(random() * 1e12));
  const username = spec.username ?? `user_${id}`;
  const newestAt = spec.newestAt ?? now;
  const spacing = spec.spacingMs ?? 6 * 3_600_000;
  const replyShare = spec.replyShare ?? 0;
  const posts: XPost[] = [];
  let at = newestAt;
  for (let i = 0; i < (spec.posts ?? 0); i++) {
    const kind: PostKind = random() < replyShare ? 'reply' : 'post';
    posts.push({
      id: snowflakeAt(at, hashText(`${id}:${i}`)),
      authorId: id,
      text: sentence(random),
      createdAt: at,
      kind,
      metrics: metricsFor(random),
      privateMetrics: {
        url_link_clicks: Math.floor(random() * 100),
        user_profile_clicks: Math.floor(random() * 50),
      },
    });
    at -= Math.max(1000, Math.floor(spacing * (0.5 + random())));
  }
  return {
    id,
    username,
    name: spec.name ?? `User ${username}`,
    followers: spec.followers ?? Math.floor(random() * 100_000),
    following: spec.following ?? Math.floor(random() * 2_000),
    listed: Math.floor(random() * 300),
    likes: Math.floor(random() * 10_000),
    createdAt: at - 365 * 86_400_000,
    posts,
  };
}

export interface Population {
  /** The first user's id; the others follow it, one apart. */
  firstId: bigint;
  count: number;
  seed: number | string;
  spec: Omit<UserSeed, 'id' | 'seed' | 'username'>;
  /** The clock when the population was declared, so its posts do not move with time. */
  at: number;
}

/** Users added one by one, and populations materialised on first read. */
export class XDirectory {
  private readonly users = new Map<string, XUser>();
  private readonly populations: Population[] = [];

  constructor(private readonly now: () => number) {}

  add(spec: UserSeed): XUser {
    const user = generateUser(spec, this.now());
    if (this.users.has(user.id)) throw new Error(`x fake: user ${user.id} exists`);
    this.users.set(user.id, user);
    return user;
  }

  /** Declares `count` users whose data is generated when first read; answers their ids. */
  addPopulation(count: number, seed: number | string, spec: Population['spec'] = {}): string[] {
    const last = this.populations.at(-1);
    const firstId = last ? last.firstId + BigInt(last.count) : 9_000_000_000n;
    this.populations.push({ firstId, count, seed, spec, at: this.now() });
    return Array.from({ length: count }, (_, i) => String(firstId + BigInt(i)));
  }

  get(id: string): XUser | undefined {
    const known = this.users.get(id);
    if (known || !/^\d{1,19}$/.test(id)) return known;
    const n = BigInt(id);
    const population = this.populations.find(
      (p) => n >= p.firstId && n < p.firstId + BigInt(p.count),
    );
    if (!population) return undefined;
    const user = generateUser(
      { ...population.spec, id, seed: `${String(population.seed)}:${id}` },
      population.at,
    );
    this.users.set(id, user);
    return user;
  }

  /** Adds a post newer than the user's others, as the user posting now would. */
  addPost(
    userId: string,
    fields: { text?: string; createdAt?: number; metrics?: Partial<PublicMetrics> } = {},
  ): XPost {
    const user = this.require(userId);
    const createdAt = fields.createdAt ?? this.now();
    const post: XPost = {
      id: snowflakeAt(createdAt, user.posts.length + 1),
      authorId: userId,
      text: fields.text ?? 'a new post',
      createdAt,
      kind: 'post',
      metrics: { ...metricsFor(seededRandom(createdAt)), ...fields.metrics },
      privateMetrics: { url_link_clicks: 0, user_profile_clicks: 0 },
    };
    user.posts.push(post);
    user.posts.sort((a, b) => compareIds(b.id, a.id));
    return post;
  }

  require(userId: string): XUser {
    const user = this.get(userId);
    if (!user) throw new Error(`x fake: no user ${userId}`);
    return user;
  }
}
