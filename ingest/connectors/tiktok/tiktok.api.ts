// The two Display API reads the connector makes, and the shapes it accepts back. Answers are
// parsed, not trusted: a page that does not parse ends the poll instead of emitting nonsense.
import { z } from 'zod';
import type { PlatformApi } from '../connector.ts';
import { ConnectorError } from '../connector.ts';

export const USER_INFO_ENDPOINT = 'GET /v2/user/info/';
export const VIDEO_LIST_ENDPOINT = 'POST /v2/video/list/';
/** The most videos a page may hold (PLATFORMS.md C.1). */
export const MAX_PAGE_SIZE = 20;

// username needs user.info.profile and the counts user.info.stats: the connection asks for both.
const USER_FIELDS = [
  'open_id',
  'display_name',
  'username',
  'follower_count',
  'following_count',
  'video_count',
];
const VIDEO_FIELDS = [
  'id',
  'create_time',
  'title',
  'video_description',
  'share_url',
  'like_count',
  'comment_count',
  'share_count',
  'view_count',
];

const count = z.number().int().nonnegative();

const userSchema = z.object({
  open_id: z.string().min(1),
  display_name: z.string().optional(),
  username: z.string().optional(),
  follower_count: count,
  following_count: count,
  video_count: count,
});
export type TikTokUser = z.infer<typeof userSchema>;

const videoSchema = z.object({
  id: z.string().min(1),
  /** Unix seconds. */
  create_time: z.number().int().nonnegative(),
  title: z.string().optional(),
  video_description: z.string().optional(),
  share_url: z.string().optional(),
  like_count: count.optional(),
  comment_count: count.optional(),
  share_count: count.optional(),
  view_count: count.optional(),
});
export type TikTokVideo = z.infer<typeof videoSchema>;

const userInfoSchema = z.object({ data: z.object({ user: userSchema }) });
const videoPageSchema = z.object({
  data: z.object({
    videos: z.array(z.unknown()).default([]),
    /** Unix milliseconds: the next page holds videos posted before it. */
    cursor: z.number().int().nonnegative(),
    has_more: z.boolean(),
  }),
});

export interface VideoPage {
  videos: TikTokVideo[];
  /** Entries of the page that did not parse, left out. */
  unreadable: number;
  cursor: number;
  hasMore: boolean;
}

function unexpected(endpoint: string, error: z.ZodError): ConnectorError {
  const where = error.issues[0]?.path.join('.') ?? '';
  return new ConnectorError('failed', `${endpoint}: unexpected answer (${where || 'body'})`);
}

export async function readUser(api: PlatformApi): Promise<TikTokUser> {
  const body = await api.call({
    path: '/v2/user/info/',
    query: { fields: USER_FIELDS.join(',') },
    endpoint: USER_INFO_ENDPOINT,
  });
  const parsed = userInfoSchema.safeParse(body);
  if (!parsed.success) throw unexpected(USER_INFO_ENDPOINT, parsed.error);
  return parsed.data.data.user;
}

/** One page of the user's public videos, newest first, posted before `cursor` when given. */
export async function readVideoPage(
  api: PlatformApi,
  cursor: number | null,
  maxCount: number,
): Promise<VideoPage> {
  const body = await api.call({
    method: 'POST',
    path: '/v2/video/list/',
    query: { fields: VIDEO_FIELDS.join(',') },
    body: cursor === null ? { max_count: maxCount } : { cursor, max_count: maxCount },
    endpoint: VIDEO_LIST_ENDPOINT,
  });
  const parsed = videoPageSchema.safeParse(body);
  if (!parsed.success) throw unexpected(VIDEO_LIST_ENDPOINT, parsed.error);
  const videos: TikTokVideo[] = [];
  let unreadable = 0;
  for (const entry of parsed.data.data.videos) {
    const video = videoSchema.safeParse(entry);
    if (video.success) videos.push(video.data);
    else unreadable += 1;
  }
  const { cursor: next, has_more: hasMore } = parsed.data.data;
  return { videos, unreadable, cursor: next, hasMore };
}
