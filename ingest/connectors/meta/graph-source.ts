// The port between the shared Meta poll and a flavour's Graph reads (Pages or Instagram), and
// the values those reads hand back.
import type { EventInput } from '../../../schema/event-envelope.ts';
import type { PlatformApi } from '../connector.ts';

export type Metric = Extract<EventInput, { type: 'engagement' }>['metric'];
type MediaType = NonNullable<Extract<EventInput, { type: 'post' }>['mediaType']>;
export type Totals = Partial<Record<Metric, number>>;
export type Audience = Partial<
  Record<'age' | 'gender' | 'country' | 'city', Record<string, number>>
>;

export interface NativePost {
  nativeId: string;
  /** Epoch ms. */
  publishedAt: number;
  content: string;
  url?: string;
  mediaType?: MediaType;
  /** Totals the list answer already carries (like and comment counts). */
  totals: Totals;
}

export interface ProfileReading {
  handle: string;
  displayName: string;
  followers: number;
  following: number;
  postCount: number;
}

/** One page of posts asked for: published in [since, until] (Unix seconds), after a cursor. */
export interface PostRange {
  since: number;
  until?: number;
  after?: string;
  limit: number;
}

export interface PostPage {
  posts: NativePost[];
  after?: string;
  more: boolean;
}

/** One settled day's account reach or views; `day` is the UTC day's start (epoch ms). */
export interface DayValue {
  day: number;
  metric: 'reach' | 'views';
  value: number;
}

/** The Graph reads of one flavour (Pages or Instagram), each a bounded number of calls. */
export interface MetaSource {
  profile(api: PlatformApi, nativeId: string): Promise<ProfileReading>;
  /** One page, newest first, of posts published in the range. */
  posts(api: PlatformApi, nativeId: string, range: PostRange): Promise<PostPage>;
  /** Lifetime totals of a page of posts, batched (each id still counts as a call, A.8). */
  postTotals(api: PlatformApi, posts: NativePost[]): Promise<Map<string, Totals>>;
  /** Account reach and views of whole UTC days (their starts, epoch ms); absent days are omitted. */
  dayInsights(api: PlatformApi, nativeId: string, days: number[]): Promise<DayValue[]>;
  /** Follower buckets, or null when Meta withholds them (under 100 followers). */
  audience(api: PlatformApi, nativeId: string, lastSettledDay: number): Promise<Audience | null>;
}
