// What every GraphQL server shares at its boundary: the verified caller, from the API key at the
// gateway and from the gateway's signed header at a subgraph.
import type { IncomingMessage } from 'node:http';
import { API_KEY_HEADER, queryRefusal, type Authenticator, type Caller } from '../auth/caller.ts';
import { INTERNAL_CALLER_HEADER, type InternalTokens } from '../auth/internal-token.ts';
import { forbidden, graphqlError, unauthenticated } from './errors.ts';

export interface SubgraphContext {
  caller: Caller;
}

/** Keys longer than this are refused unread: no real key is that long. */
const MAX_API_KEY_LENGTH = 256;

/** Reads the API key of an HTTP request, or undefined when there is none. */
export function readApiKey(req: IncomingMessage): string | undefined {
  const raw = req.headers[API_KEY_HEADER];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value && value.length <= MAX_API_KEY_LENGTH ? value : undefined;
}

/**
 * Builds the context function of a subgraph: the caller is the one the gateway signed in the
 * x-loupe-caller header, and nothing else; without it (an API key sent straight to the subgraph's
 * port, say) the request is UNAUTHENTICATED, so no resolver runs without a verified caller.
 */
export function gatewayCallerContext(
  tokens: InternalTokens,
): (req: IncomingMessage) => Promise<SubgraphContext> {
  return async (req) => {
    const raw = req.headers[INTERNAL_CALLER_HEADER];
    return { caller: await gatewayCaller(tokens, Array.isArray(raw) ? raw[0] : raw) };
  };
}

/** The caller of a gateway-signed token; the role is checked again here, as in the gateway. */
export async function gatewayCaller(
  tokens: InternalTokens,
  token: string | undefined,
): Promise<Caller> {
  const caller = token === undefined ? null : await tokens.verify(token);
  if (!caller) {
    throw graphqlError(
      'UNAUTHENTICATED',
      'subgraphs answer only the gateway; send this request to the gateway (/graphql on its port)',
    );
  }
  const refusal = queryRefusal(caller);
  if (refusal) throw forbidden(refusal);
  return caller;
}

/**
 * The verified caller of a GraphQL operation: UNAUTHENTICATED without a live key, FORBIDDEN for a
 * key whose role may not query. The gateway and every subgraph decide with this one function.
 */
export async function queryingCaller(
  authenticate: Authenticator,
  key: string | undefined,
): Promise<Caller> {
  const caller = key === undefined ? null : await authenticate(key);
  if (!caller) throw unauthenticated();
  const refusal = queryRefusal(caller);
  if (refusal) throw forbidden(refusal);
  return caller;
}
