// GET /2/users/:id/tweets as PLATFORMS.md B.1 describes it: the 3,200 most recent posts (800
// without replies), newest first across pages, opaque tokens that may expire, `next_token` left
// out on the last page, empty fields left out, private metrics for the author's recent posts only.
import { randomBytes } from 'node:crypto';
import { compareIds, type XPost, type XUser } from './x-data.ts';
import { fieldNotAuthorized, invalidRequest, type Problem } from './x-problems.ts';
import type { TimelineQuery } from './x-query.ts';

export const TIMELINE_CAP = 3200;
export const TIMELINE_CAP_WITHOUT_REPLIES = 800;
const PRIVATE_METRICS_MAX_AGE_MS = 30 * 86_400_000;
const PRIVATE_FIELDS = ['non_public_metrics', 'organic_metrics'] as const;

/** Which names the wire uses: the docs' (`retweet_count`) or the OpenAPI spec v2.167's. */
export type FieldNames = 'docs' | 'spec-2.167';

interface PageAnchor {
  direction: 'next' | 'previous';
  /** The post id the page starts after (next) or before (previous). */
  id: string;
  fingerprint: string;
  issuedAt: number;
}

/** Page tokens: random base32hex strings standing for a place in one query's results. */
export class PageTokens {
  private readonly anchors = new Map<string, PageAnchor>();

  constructor(
    private readonly now: () => number,
    /** A token older than this is refused; undefined keeps tokens forever. */
    private readonly ttlMs?: number,
  ) {}

  issue(direction: PageAnchor['direction'], id: string, fingerprint: string): string {
    const token = BigInt(`0x${randomBytes(20).toString('hex')}`).toString(32);
    this.anchors.set(token, { direction, id, fingerprint, issuedAt: this.now() });
    return token;
  }

  read(token: string, fingerprint: string): PageAnchor | undefined {
    const anchor = this.anchors.get(token);
    if (!anchor || anchor.fingerprint !== fingerprint) return undefined;
    if (this.ttlMs !== undefined && this.now() - anchor.issuedAt > this.ttlMs) return undefined;
    return anchor;
  }
}

export interface TimelineRequest {
  user: XUser;
  query: TimelineQuery;
  fingerprint: string;
  /** The user whose token made the call: private metrics are the author's only. */
  viewerId: string;
  now: number;
  tokens: PageTokens;
  fieldNames: FieldNames;
}

function reachable(user: XUser, query: TimelineQuery): XPost[] {
  let posts = user.posts.slice(0, TIMELINE_CAP);
  if (query.excludeReposts) posts = posts.filter((p) => p.kind !== 'repost');
  if (query.excludeReplies) {
    posts = posts.filter((p) => p.kind !== 'reply').slice(0, TIMELINE_CAP_WITHOUT_REPLIES);
  }
  return posts.filter(
    (p) =>
      (query.sinceId === undefined || compareIds(p.id, query.sinceId) > 0) &&
      (query.untilId === undefined || compareIds(p.id, query.untilId) < 0) &&
      (query.startTime === undefined || p.createdAt >= query.startTime) &&
      // end_time taken as exclusive: the docs do not say, search's end_time is.
      (query.endTime === undefined || p.createdAt < query.endTime),
  );
}

export function timelinePage(req: TimelineRequest): { status: 200; body: unknown } | Problem {
  const { query } = req;
  // Never-promoted posts answer nothing at all for promoted_metrics (a known issue, B.1).
  if (query.fields.has('promoted_metrics'))
    return { status: 200, body: { meta: { result_count: 0 } } };
  const posts = reachable(req.user, query);
  let start = 0;
  let end = Math.min(posts.length, query.maxResults);
  if (query.paginationToken !== undefined) {
    const anchor = req.tokens.read(query.paginationToken, req.fingerprint);
    if (!anchor) {
      return invalidRequest([
        {
          parameter: 'pagination_token',
          value: query.paginationToken,
          message: 'pagination_token is not valid or has expired',
        },
      ]);
    }
    if (anchor.direction === 'next') {
      start = posts.findIndex((p) => compareIds(p.id, anchor.id) < 0);
      if (start < 0) start = posts.length;
      end = Math.min(posts.length, start + query.maxResults);
    } else {
      end = posts.findIndex((p) => compareIds(p.id, anchor.id) >= 0);
      if (end < 0) end = posts.length;
      start = Math.max(0, end - query.maxResults);
    }
  }
  const page = posts.slice(start, end);
  const own = req.viewerId === req.user.id;
  const privateAsked = PRIVATE_FIELDS.filter((f) => query.fields.has(f));
  // The author's private metrics cover 30 days; older posts drop out of the page, which can
  // leave a page with no posts and a next_token (B.1 edge case).
  const shown =
    own && privateAsked.length > 0
      ? page.filter((p) => req.now - p.createdAt < PRIVATE_METRICS_MAX_AGE_MS)
      : page;
  const data = shown.map((p) => renderPost(p, query.fields, own, req.fieldNames));
  const errors = own
    ? []
    : page.flatMap((p) => privateAsked.map((f) => fieldNotAuthorized(p.id, f)));
  const meta: Record<string, unknown> = { result_count: data.length };
  if (shown.length > 0) {
    meta.newest_id = shown[0]!.id;
    meta.oldest_id = shown.at(-1)!.id;
  }
  const last = page.at(-1);
  if (last && end < posts.length)
    meta.next_token = req.tokens.issue('next', last.id, req.fingerprint);
  const first = page[0];
  if (first && query.paginationToken !== undefined && start > 0) {
    meta.previous_token = req.tokens.issue('previous', first.id, req.fingerprint);
  }
  return {
    status: 200,
    body: { ...(data.length > 0 && { data }), ...(errors.length > 0 && { errors }), meta },
  };
}

function renderPost(post: XPost, fields: Set<string>, own: boolean, names: FieldNames) {
  const out: Record<string, unknown> = {
    id: post.id,
    text: post.text,
    edit_history_tweet_ids: [post.id],
  };
  if (fields.has('created_at')) out.created_at = new Date(post.createdAt).toISOString();
  if (fields.has('author_id')) out.author_id = post.authorId;
  if (fields.has('conversation_id')) out.conversation_id = post.id;
  if (fields.has('lang')) out.lang = 'en';
  if (fields.has('public_metrics')) out.public_metrics = publicMetrics(post, names);
  if (own && fields.has('non_public_metrics')) {
    const m = post.metrics;
    out.non_public_metrics = {
      impression_count: m.impression_count,
      url_link_clicks: post.privateMetrics.url_link_clicks,
      user_profile_clicks: post.privateMetrics.user_profile_clicks,
      engagements:
        m.like_count +
        m.reply_count +
        m.retweet_count +
        m.quote_count +
        post.privateMetrics.url_link_clicks,
    };
  }
  if (own && fields.has('organic_metrics')) {
    // Nothing here is promoted, so organic equals public.
    out.organic_metrics = {
      impression_count: post.metrics.impression_count,
      like_count: post.metrics.like_count,
      reply_count: post.metrics.reply_count,
      retweet_count: post.metrics.retweet_count,
      url_link_clicks: post.privateMetrics.url_link_clicks,
      user_profile_clicks: post.privateMetrics.user_profile_clicks,
    };
  }
  return out;
}

function publicMetrics(post: XPost, names: FieldNames): Record<string, number> {
  const { retweet_count, ...rest } = post.metrics;
  return names === 'docs' ? { retweet_count, ...rest } : { repost_count: retweet_count, ...rest };
}

export function renderUser(user: XUser, fields: Set<string>, names: FieldNames) {
  const out: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  if (fields.has('created_at')) out.created_at = new Date(user.createdAt).toISOString();
  if (fields.has('protected')) out.protected = false;
  if (fields.has('verified')) out.verified = false;
  if (fields.has('public_metrics')) {
    out.public_metrics = {
      followers_count: user.followers,
      following_count: user.following,
      [names === 'docs' ? 'tweet_count' : 'post_count']: user.posts.length,
      listed_count: user.listed,
      like_count: user.likes,
      media_count: 0,
    };
  }
  return out;
}
