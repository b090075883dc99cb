// The problem bodies the fake answers (PLATFORMS.md B.3, B.4): the documented ones verbatim, the
// rest in the documented fields (`type`, `title`, `detail`, sometimes `status`).

export const PROBLEM_BASE = 'https://api.x.com/2/problems/';

export interface Problem {
  status: number;
  body: Record<string, unknown>;
}

export const TOO_MANY_REQUESTS: Problem = {
  status: 429,
  body: {
    title: 'Too Many Requests',
    detail: 'Too Many Requests',
    type: 'about:blank',
    status: 429,
  },
};

// The observed usage-cap body names the older host; kept as observed.
export const USAGE_CAPPED: Problem = {
  status: 429,
  body: {
    title: 'UsageCapExceeded',
    detail: 'Usage cap exceeded: Monthly product cap',
    type: 'https://api.twitter.com/2/problems/usage-capped',
    period: 'Monthly',
    scope: 'Product',
  },
};

// Whether a 401 also carries `type` is unverified: the documented example has none.
export const UNAUTHORIZED: Problem = {
  status: 401,
  body: { title: 'Unauthorized', status: 401, detail: 'Unauthorized' },
};

export const FORBIDDEN: Problem = {
  status: 403,
  body: { title: 'Forbidden', detail: 'Forbidden', type: 'about:blank', status: 403 },
};

export const NOT_FOUND: Problem = {
  status: 404,
  body: { title: 'Not Found', detail: 'Not Found', type: 'about:blank', status: 404 },
};

const SERVER_TITLES: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function serverError(status: number): Problem {
  const title = SERVER_TITLES[status] ?? 'Server Error';
  return { status, body: { title, detail: title, type: 'about:blank', status } };
}

/** One refused query parameter, in the shape of an `invalid-request` problem's `errors`. */
export interface ParameterError {
  parameter: string;
  value: string;
  message: string;
}

export function invalidRequest(errors: ParameterError[]): Problem {
  return {
    status: 400,
    body: {
      errors: errors.map((e) => ({ parameters: { [e.parameter]: [e.value] }, message: e.message })),
      title: 'Invalid Request',
      detail: 'One or more query parameters are not valid.',
      type: `${PROBLEM_BASE}invalid-request`,
    },
  };
}

/** A partial error: an answer of 200 names what it could not return. */
export function resourceNotFound(resourceType: 'user' | 'tweet', id: string, parameter: string) {
  return {
    value: id,
    detail: `Could not find ${resourceType} with ${parameter}: [${id}].`,
    title: 'Not Found Error',
    resource_type: resourceType,
    parameter,
    resource_id: id,
    type: `${PROBLEM_BASE}resource-not-found`,
  };
}

/** A partial error for a field the caller may not read on this resource. */
export function fieldNotAuthorized(id: string, field: string) {
  return {
    value: field,
    detail: `The field ${field} of post ${id} is visible to its author only.`,
    title: 'Field Authorization Error',
    resource_type: 'tweet',
    parameter: 'tweet.fields',
    resource_id: id,
    field,
    type: `${PROBLEM_BASE}not-authorized-for-field`,
  };
}
