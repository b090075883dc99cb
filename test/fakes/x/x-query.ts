// The query parameters of GET /2/users/:id/tweets and GET /2/users/:id, checked as X's OpenAPI
// spec states them (PLATFORMS.md B.1); anything unknown or out of range is an invalid request.
import type { ParameterError } from './x-problems.ts';

export const POST_FIELDS = new Set([
  'id',
  'text',
  'edit_history_tweet_ids',
  'created_at',
  'author_id',
  'conversation_id',
  'lang',
  'public_metrics',
  'non_public_metrics',
  'organic_metrics',
  'promoted_metrics',
  'referenced_tweets',
  'in_reply_to_user_id',
]);

export const USER_FIELDS = new Set([
  'id',
  'name',
  'username',
  'created_at',
  'description',
  'public_metrics',
  'protected',
  'verified',
]);

export interface TimelineQuery {
  maxResults: number;
  paginationToken?: string;
  sinceId?: string;
  untilId?: string;
  /** Epoch ms. */
  startTime?: number;
  endTime?: number;
  excludeReplies: boolean;
  excludeReposts: boolean;
  fields: Set<string>;
}

const TIMELINE_PARAMS = new Set([
  'max_results',
  'pagination_token',
  'since_id',
  'until_id',
  'start_time',
  'end_time',
  'exclude',
  'tweet.fields',
  'post.fields',
  'expansions',
  'user.fields',
  'media.fields',
  'poll.fields',
  'place.fields',
]);

/** The earliest instant the timeline's time parameters accept. */
const EARLIEST_TIME = Date.parse('2010-11-06T00:00:00Z');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ID = /^\d{1,19}$/;
// base32hex, as the spec describes pagination tokens.
const TOKEN = /^[0-9a-v]+$/;

function unknownParams(params: URLSearchParams, allowed: Set<string>): ParameterError[] {
  return [...params.keys()]
    .filter((name) => !allowed.has(name))
    .map((name) => ({
      parameter: name,
      value: params.get(name) ?? '',
      message: `[${name}] is not a parameter of this endpoint`,
    }));
}

function fieldList(
  params: URLSearchParams,
  names: string[],
  known: Set<string>,
  errors: ParameterError[],
): Set<string> {
  const fields = new Set<string>();
  for (const name of names) {
    const value = params.get(name);
    if (value === null) continue;
    for (const field of value.split(',')) {
      if (known.has(field)) fields.add(field);
      else
        errors.push({
          parameter: name,
          value: field,
          message: `[${field}] is not a field of ${name}`,
        });
    }
  }
  return fields;
}

export function parseTimelineQuery(
  params: URLSearchParams,
): { ok: true; query: TimelineQuery } | { ok: false; errors: ParameterError[] } {
  const errors = unknownParams(params, TIMELINE_PARAMS);
  const bad = (parameter: string, message: string) =>
    errors.push({ parameter, value: params.get(parameter) ?? '', message });

  const maxText = params.get('max_results');
  const maxResults = maxText === null ? 10 : Number(maxText);
  if (!Number.isInteger(maxResults) || maxResults < 5 || maxResults > 100) {
    bad('max_results', 'max_results must be a whole number from 5 to 100');
  }
  const ids: Partial<Record<'since_id' | 'until_id', string>> = {};
  for (const name of ['since_id', 'until_id'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    if (ID.test(value)) ids[name] = value;
    else bad(name, `${name} must be 1 to 19 digits`);
  }
  if (ids.since_id && ids.until_id && BigInt(ids.since_id) >= BigInt(ids.until_id)) {
    bad('since_id', 'since_id must be less than until_id');
  }
  const times: Partial<Record<'start_time' | 'end_time', number>> = {};
  for (const name of ['start_time', 'end_time'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    const ms = RFC3339.test(value) ? Date.parse(value) : NaN;
    if (Number.isFinite(ms) && ms >= EARLIEST_TIME) times[name] = ms;
    else bad(name, `${name} must be an RFC 3339 time on or after 2010-11-06`);
  }
  if (times.start_time !== undefined && times.end_time !== undefined) {
    if (times.start_time >= times.end_time) bad('start_time', 'start_time must be before end_time');
  }
  const token = params.get('pagination_token');
  if (token !== null && !TOKEN.test(token))
    bad('pagination_token', 'pagination_token is not valid');
  const exclude = (params.get('exclude') ?? '').split(',').filter(Boolean);
  for (const value of exclude) {
    if (value !== 'replies' && value !== 'retweets') {
      errors.push({ parameter: 'exclude', value, message: `[${value}] cannot be excluded` });
    }
  }
  // The spec renamed tweet.fields to post.fields; whether the wire did is unverified: take both.
  const fields = fieldList(params, ['tweet.fields', 'post.fields'], POST_FIELDS, errors);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    query: {
      maxResults,
      ...(token !== null && { paginationToken: token }),
      ...(ids.since_id && { sinceId: ids.since_id }),
      ...(ids.until_id && { untilId: ids.until_id }),
      ...(times.start_time !== undefined && { startTime: times.start_time }),
      ...(times.end_time !== undefined && { endTime: times.end_time }),
      excludeReplies: exclude.includes('replies'),
      excludeReposts: exclude.includes('retweets'),
      fields,
    },
  };
}

export function parseUserQuery(
  params: URLSearchParams,
): { ok: true; fields: Set<string> } | { ok: false; errors: ParameterError[] } {
  const errors = unknownParams(params, new Set(['user.fields', 'expansions', 'tweet.fields']));
  const fields = fieldList(params, ['user.fields'], USER_FIELDS, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, fields };
}

/** The query without its page token: a token is good only for the query it came from. */
export function queryFingerprint(params: URLSearchParams): string {
  return [...params]
    .filter(([name]) => name !== 'pagination_token')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}
