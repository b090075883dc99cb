// Posts a GraphQL operation over real HTTP, as a caller would, and returns status and body; or,
// to a subgraph under test, as the gateway would: with the key's caller signed in a header.
import { randomBytes } from 'node:crypto';
import { API_KEY_HEADER, type Authenticator } from '../../lib/auth/caller.ts';
import { createInternalTokens, INTERNAL_CALLER_HEADER } from '../../lib/auth/internal-token.ts';

export interface Reply<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  key: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  extraHeaders: Record<string, string> = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (key !== undefined) headers[API_KEY_HEADER] = key;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<Reply<T>, 'status'>) };
}

/** What subgraphs under test verify the gateway's header with (give it as their `tokens`). */
export const testTokens = createInternalTokens(randomBytes(32).toString('base64url'));

/**
 * Posts to a subgraph as the gateway does after verifying `key` with `authenticate`: the caller
 * signed with `testTokens`, and no header at all for a missing or unknown key.
 */
export async function postAsGateway<T = Record<string, unknown>>(
  authenticate: Authenticator,
  url: string,
  key: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Reply<T>> {
  const caller = key === undefined ? null : await authenticate(key);
  const headers: Record<string, string> = {};
  if (caller) headers[INTERNAL_CALLER_HEADER] = await testTokens.sign(caller);
  return postGraphQL<T>(url, undefined, query, variables, headers);
}
