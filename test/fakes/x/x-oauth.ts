// POST /2/oauth2/token for the refresh_token grant (PLATFORMS.md B.5): confidential clients
// authenticate with Basic, public ones name themselves in the body; errors are {error,
// error_description}, 400 for a bad grant, 401 for a client that did not authenticate.
import type { XTokens } from './x-tokens.ts';

export interface OAuthClient {
  id: string;
  /** Absent for a public client (native app, SPA). */
  secret?: string;
}

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

const oauthError = (status: number, error: string, description: string): TokenAnswer => ({
  status,
  body: { error, error_description: description },
});

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Which registered client made the call, or the error answer when none did properly. */
function authenticateClient(
  clients: readonly OAuthClient[],
  authorization: string | undefined,
  form: URLSearchParams,
): OAuthClient | TokenAnswer {
  const basic = basicCredentials(authorization);
  if (basic) {
    const client = clients.find((c) => c.id === basic.id);
    if (!client || client.secret === undefined || client.secret !== basic.secret) {
      return oauthError(401, 'unauthorized_client', 'The client credentials are not valid.');
    }
    return client;
  }
  const client = clients.find((c) => c.id === form.get('client_id'));
  if (client && client.secret === undefined) return client;
  return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
}

export function tokenEndpoint(
  tokens: XTokens,
  clients: readonly OAuthClient[],
  authorization: string | undefined,
  contentType: string | undefined,
  rawBody: string,
  accessTtlMs: number,
): TokenAnswer {
  if (!(contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    return oauthError(
      400,
      'invalid_request',
      'The body must be application/x-www-form-urlencoded.',
    );
  }
  const form = new URLSearchParams(rawBody);
  const client = authenticateClient(clients, authorization, form);
  if ('status' in client) return client;
  const grant = form.get('grant_type');
  if (grant !== 'refresh_token') {
    return grant === null
      ? oauthError(400, 'invalid_request', 'Missing required parameter [grant_type].')
      : oauthError(400, 'unsupported_grant_type', `This fake does not grant ${grant}.`);
  }
  const refreshToken = form.get('refresh_token');
  if (!refreshToken)
    return oauthError(400, 'invalid_request', 'Missing required parameter [refresh_token].');
  const outcome = tokens.refresh(refreshToken, client.id);
  if (!outcome.ok) return oauthError(400, outcome.error, outcome.description);
  return {
    status: 200,
    body: {
      token_type: 'bearer',
      expires_in: Math.round(accessTtlMs / 1000),
      access_token: outcome.token.accessToken,
      scope: outcome.scopes.join(' '),
      ...(outcome.token.refreshToken !== undefined && {
        refresh_token: outcome.token.refreshToken,
      }),
    },
  };
}
