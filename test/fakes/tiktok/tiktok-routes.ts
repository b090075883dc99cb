// The Display API endpoints and the token endpoint, as pure functions from a parsed request to
// an answer; tiktok.fake.ts does the HTTP, the tokens' check, the limits and the faults.
import type { Account, AccountStore, UserRecord, VideoRecord } from './tiktok-data.ts';
import { errorAnswer, oauthError, okAnswer, type Answer } from './tiktok-envelope.ts';
import { ACCESS_TTL_S, type Grant, type IssuedToken, type TokenStore } from './tiktok-tokens.ts';

/** Which scope each user field needs (PLATFORMS.md C.1). */
export const USER_FIELD_SCOPE: Record<keyof UserRecord, string> = {
  open_id: 'user.info.basic',
  union_id: 'user.info.basic',
  avatar_url: 'user.info.basic',
  avatar_url_100: 'user.info.basic',
  avatar_large_url: 'user.info.basic',
  display_name: 'user.info.basic',
  bio_description: 'user.info.profile',
  profile_deep_link: 'user.info.profile',
  is_verified: 'user.info.profile',
  username: 'user.info.profile',
  follower_count: 'user.info.stats',
  following_count: 'user.info.stats',
  likes_count: 'user.info.stats',
  video_count: 'user.info.stats',
};

export const VIDEO_FIELDS = [
  'id',
  'create_time',
  'cover_image_url',
  'share_url',
  'video_description',
  'duration',
  'height',
  'width',
  'title',
  'embed_html',
  'embed_link',
  'like_count',
  'comment_count',
  'share_count',
  'view_count',
] as const satisfies readonly (keyof VideoRecord)[];

export const MAX_COUNT = 20;
const DEFAULT_COUNT = 10;
const MAX_QUERY_IDS = 20;

export interface ParsedRequest {
  query: URLSearchParams;
  /** The raw body text. */
  body: string;
  contentType: string;
}

export interface ApiContext {
  grant: Grant;
  account: Account;
  now: number;
}

type Fields<K extends string> = { ok: true; fields: K[] } | { ok: false; answer: Answer };

function readFields<K extends string>(
  req: ParsedRequest,
  known: readonly K[],
  now: number,
): Fields<K> {
  const raw = req.query.get('fields');
  if (!raw) return { ok: false, answer: errorAnswer('invalid_params', now, 'fields is required.') };
  const fields = raw.split(',').map((f) => f.trim());
  const unknown = fields.find((f) => !(known as readonly string[]).includes(f));
  if (unknown !== undefined) {
    return { ok: false, answer: errorAnswer('invalid_params', now, `Unknown field: ${unknown}.`) };
  }
  return { ok: true, fields: [...new Set(fields)] as K[] };
}

function pick<T extends object, K extends keyof T>(record: T, fields: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const f of fields) out[f] = record[f];
  return out;
}

export function userInfo(req: ParsedRequest, { grant, account, now }: ApiContext): Answer {
  if (!grant.scopes.has('user.info.basic')) return errorAnswer('scope_not_authorized', now);
  const known = Object.keys(USER_FIELD_SCOPE) as (keyof UserRecord)[];
  const read = readFields(req, known, now);
  if (!read.ok) return read.answer;
  // A field without its scope fails the whole call, not just that field.
  const missing = read.fields.filter((f) => !grant.scopes.has(USER_FIELD_SCOPE[f]));
  if (missing.length > 0) {
    return errorAnswer(
      'scope_permission_missed',
      now,
      `Fields need more scopes: ${missing.join(',')}.`,
    );
  }
  return okAnswer({ user: pick(account.user, read.fields) }, now);
}

function readJson(req: ParsedRequest, now: number): { ok: true; value: object } | Answer {
  if (!req.contentType.toLowerCase().startsWith('application/json')) {
    return errorAnswer('invalid_params', now, 'Content-Type must be application/json.');
  }
  if (req.body.trim() === '') return { ok: true, value: {} };
  try {
    const value: unknown = JSON.parse(req.body);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return { ok: true, value };
    }
  } catch {
    // answered below
  }
  return errorAnswer('invalid_params', now, 'The body is not a JSON object.');
}

const isCount = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const publicFields = (v: VideoRecord, fields: readonly (typeof VIDEO_FIELDS)[number][]) =>
  pick(v, fields);

export function videoList(req: ParsedRequest, { grant, account, now }: ApiContext): Answer {
  if (!grant.scopes.has('video.list')) return errorAnswer('scope_not_authorized', now);
  const read = readFields(req, VIDEO_FIELDS, now);
  if (!read.ok) return read.answer;
  const json = readJson(req, now);
  if (!('ok' in json)) return json;
  const { cursor, max_count: maxCount = DEFAULT_COUNT } = json.value as Record<string, unknown>;
  if (cursor !== undefined && !isCount(cursor, 0, Number.MAX_SAFE_INTEGER)) {
    return errorAnswer('invalid_params', now, 'cursor must be a Unix time in milliseconds.');
  }
  if (!isCount(maxCount, 1, MAX_COUNT)) {
    return errorAnswer('invalid_params', now, `max_count must be 1 to ${MAX_COUNT}.`);
  }
  // Videos posted before the cursor, newest first; private ones take a place in the page but
  // are left out of it, which is how a page comes back shorter than max_count.
  const videos = account.videos;
  const start = cursor === undefined ? 0 : videos.findIndex((v) => v.create_time * 1000 < cursor);
  const slice = start < 0 ? [] : videos.slice(start, start + maxCount);
  const last = slice.at(-1);
  const data = {
    videos: slice.filter((v) => v.isPublic).map((v) => publicFields(v, read.fields)),
    cursor: last ? last.create_time * 1000 : (cursor ?? now),
    has_more: start >= 0 && start + maxCount < videos.length,
  };
  return okAnswer(data, now);
}

export function videoQuery(req: ParsedRequest, { grant, account, now }: ApiContext): Answer {
  if (!grant.scopes.has('video.list')) return errorAnswer('scope_not_authorized', now);
  const read = readFields(req, VIDEO_FIELDS, now);
  if (!read.ok) return read.answer;
  const json = readJson(req, now);
  if (!('ok' in json)) return json;
  const ids = (json.value as { filters?: { video_ids?: unknown } }).filters?.video_ids;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length > MAX_QUERY_IDS ||
    !ids.every((id) => typeof id === 'string')
  ) {
    return errorAnswer('invalid_params', now, `filters.video_ids: 1 to ${MAX_QUERY_IDS} ids.`);
  }
  const wanted = new Set(ids);
  const videos = account.videos
    .filter((v) => v.isPublic && wanted.has(v.id))
    .map((v) => publicFields(v, read.fields));
  return okAnswer({ videos }, now);
}

export interface OAuthApp {
  clientKey: string;
  clientSecret: string;
}

function tokenAnswer(t: IssuedToken, now: number): Answer {
  return {
    status: 200,
    body: {
      open_id: t.openId,
      scope: t.scopes.join(','),
      access_token: t.accessToken,
      expires_in: ACCESS_TTL_S,
      refresh_token: t.refreshToken,
      refresh_expires_in: Math.max(0, Math.floor((t.refreshExpiresAt - now) / 1000)),
      token_type: 'Bearer',
    },
  };
}

export function oauthToken(
  req: ParsedRequest,
  app: OAuthApp,
  tokens: TokenStore,
  accounts: AccountStore,
  now: number,
): Answer {
  if (!req.contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return oauthError('invalid_request', 'Content-Type must be form-urlencoded.', now);
  }
  const form = new URLSearchParams(req.body);
  const clientKey = form.get('client_key');
  const clientSecret = form.get('client_secret');
  if (!clientKey) return oauthError('invalid_request', 'Client key is missed in request.', now);
  if (!clientSecret) {
    return oauthError('invalid_request', 'Client secret is missed in request.', now);
  }
  if (clientKey !== app.clientKey || clientSecret !== app.clientSecret) {
    return oauthError('invalid_client', 'Client key or secret is incorrect.', now);
  }
  switch (form.get('grant_type')) {
    case 'refresh_token': {
      const refreshToken = form.get('refresh_token');
      if (!refreshToken) {
        return oauthError('invalid_request', 'Refresh token is missed in request.', now);
      }
      const issued = tokens.redeem(refreshToken, clientKey);
      if (!issued || !accounts.get(issued.openId)) {
        return oauthError('invalid_grant', 'Refresh token is invalid or expired.', now);
      }
      return tokenAnswer(issued, now);
    }
    case 'authorization_code': {
      const code = form.get('code');
      if (!code) return oauthError('invalid_request', 'Code is missed in request.', now);
      const issued = tokens.exchange(code, clientKey);
      if (!issued) return oauthError('invalid_grant', 'Authorization code is invalid.', now);
      return tokenAnswer(issued, now);
    }
    default:
      return oauthError('unsupported_grant_type', 'Grant type is not supported.', now);
  }
}
