// The v2 answer envelope: every Display API answer carries `error {code, message, log_id}`, and
// the OAuth endpoint answers errors in its own `{error, error_description, log_id}` shape.
import { randomBytes } from 'node:crypto';

/** The documented v2 codes and the status each comes with (PLATFORMS.md C.3). */
export const ERROR_STATUS = {
  ok: 200,
  access_token_invalid: 401,
  scope_not_authorized: 401,
  scope_permission_missed: 400,
  invalid_params: 400,
  invalid_file_upload: 400,
  rate_limit_exceeded: 429,
  internal_error: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

const MESSAGES: Record<ErrorCode, string> = {
  ok: '',
  access_token_invalid: 'The access token is invalid or not found in the request.',
  scope_not_authorized:
    'The user did not authorize the scope required for completing this request.',
  scope_permission_missed: 'Some requested fields need scopes the user did not grant.',
  invalid_params: 'The request parameters are invalid.',
  invalid_file_upload: 'The uploaded file is invalid.',
  rate_limit_exceeded: 'The API rate limit was exceeded. Please try again later.',
  internal_error: 'Something went wrong. Please try again later.',
};

/** The code an injected status stands for, when a test names none. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'access_token_invalid';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'internal_error';
  return 'invalid_params';
}

/** A log id as the documented example looks: 14 digits of UTC time, then 20 hex characters. */
export function logIdAt(now: number): string {
  const stamp = new Date(now).toISOString().replace(/\D/g, '').slice(0, 14);
  return stamp + randomBytes(10).toString('hex').toUpperCase();
}

export interface Answer {
  status: number;
  body: unknown;
}

export function okAnswer(data: unknown, now: number): Answer {
  return { status: 200, body: { data, error: { code: 'ok', message: '', log_id: logIdAt(now) } } };
}

export function errorAnswer(
  code: ErrorCode,
  now: number,
  detail?: string,
  status: number = ERROR_STATUS[code],
): Answer {
  const message = detail ? `${MESSAGES[code]} ${detail}`.trim() : MESSAGES[code];
  return { status, body: { data: {}, error: { code, message, log_id: logIdAt(now) } } };
}

/** OAuth's error values (PLATFORMS.md C.5), with the status the fake gives each. */
export type OAuthErrorCode =
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_request'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'server_error'
  | 'temporarily_unavailable';

export function oauthError(error: OAuthErrorCode, description: string, now: number): Answer {
  const status =
    error === 'invalid_client'
      ? 401
      : error === 'server_error'
        ? 500
        : error === 'temporarily_unavailable'
          ? 503
          : 400;
  return { status, body: { error, error_description: description, log_id: logIdAt(now) } };
}
