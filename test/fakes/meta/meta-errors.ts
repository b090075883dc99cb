// Graph's error envelope (A.9) and the refusals the fake answers with; the HTTP status of a
// throttle is undocumented (A.8), so it is an option and connectors must classify by code.
import { randomBytes } from 'node:crypto';

export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_user_title?: string;
    error_user_msg?: string;
    is_transient?: boolean;
    fbtrace_id: string;
  };
}

/** A refusal: the status and the envelope, thrown by handlers and answered by the server. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly body: GraphErrorBody,
  ) {
    super(body.error.message);
  }
}

const traceId = () => randomBytes(9).toString('base64url');

export function graphError(
  status: number,
  code: number,
  message: string,
  extra: Omit<GraphErrorBody['error'], 'message' | 'code' | 'type' | 'fbtrace_id'> & {
    type?: string;
  } = {},
): GraphError {
  const { type = 'OAuthException', ...rest } = extra;
  return new GraphError(status, {
    error: { message, type, code, ...rest, fbtrace_id: traceId() },
  });
}

export const invalidMetric = (metric: string) =>
  graphError(400, 100, `(#100) ${metric} is not a valid insights metric for this object`);

export const invalidParameter = (what: string) => graphError(400, 100, `(#100) ${what}`);

export const unknownObject = (id: string) =>
  graphError(400, 100, `Object ${id} does not exist, or this token may not read it`, {
    type: 'GraphMethodException',
    error_subcode: 33,
  });

export const noToken = () => graphError(400, 104, 'This resource needs an access token');

export const invalidToken = () => graphError(400, 190, 'Invalid OAuth access token');

export const expiredToken = (at: number) =>
  graphError(
    400,
    190,
    `Access token refused: the session expired at ${new Date(at).toISOString()}`,
    { error_subcode: 463 },
  );

export const revokedToken = (subcode: 458 | 460) =>
  graphError(
    400,
    190,
    subcode === 460
      ? 'Access token refused: the session ended because the password changed'
      : 'Access token refused: the app is no longer authorised by the user',
    { error_subcode: subcode },
  );

/** The BUC refusals of A.8, by code. */
const THROTTLE_MESSAGES: Record<number, string> = {
  4: '(#4) App limit reached',
  17: '(#17) User limit reached',
  32: '(#32) Page request limit reached',
  613: '(#613) Custom rate limit reached',
  80001: '(#80001) There have been too many calls to this Page account. Wait a bit and try again.',
  80002:
    '(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.',
};

export const throttled = (code: number, status: number) =>
  graphError(status, code, THROTTLE_MESSAGES[code] ?? `(#${code}) Too many calls`);

export const serverError = (status: 500 | 503) =>
  status === 503
    ? graphError(503, 2, 'Service temporarily unavailable', {
        is_transient: true,
      })
    : graphError(500, 1, 'An unknown error has occurred.', { is_transient: true });

export const notEnoughViewers = () =>
  graphError(400, 10, '(#10) Not enough viewers for the media to show insights', {
    type: 'OAuthException',
  });
