// Renewing a Meta token: both flavours call a token endpoint with the old token in the query and
// read the same answer, so only the endpoint and its parameters differ.
import { z } from 'zod';
import type { ApiResponse, Credentials, RawHttp } from '../connector.ts';
import { ConnectorError } from '../connector.ts';
import { describeGraphError, graphErrorOf, isThrottle } from './graph-errors.ts';

/** One flavour's token endpoint (A.10). */
export interface GraphTokenRenewal {
  /** Relative to the protocol's base URL. */
  path: string;
  /** The query that renews `accessToken`, in the order it is sent. */
  query(accessToken: string): Record<string, string>;
  /** Names the call in errors, e.g. `Facebook token exchange`. */
  what: string;
}

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
});

/** New credentials from a token endpoint's answer, or why the grant is gone. */
export function credentialsFrom(
  res: ApiResponse,
  old: Credentials,
  now: number,
  what: string,
): Credentials {
  const ok = res.status >= 200 && res.status < 300 ? tokenAnswer.safeParse(res.body) : undefined;
  if (ok?.success) {
    return {
      ...old,
      accessToken: ok.data.access_token,
      expiresAt: ok.data.expires_in === undefined ? old.expiresAt : now + ok.data.expires_in * 1000,
    };
  }
  const error = graphErrorOf(res.body);
  const why = error ? describeGraphError(error) : `HTTP ${res.status}`;
  if (res.status >= 500) throw new ConnectorError('failed', `${what}: ${why}`);
  if (error && isThrottle(error.code)) throw new ConnectorError('rate-limited', `${what}: ${why}`);
  throw new ConnectorError('revoked', `${what} refused: ${why}`);
}

/** Renews `credentials` at `baseUrl`; rawHttp never logs URLs, so the token may ride in one. */
export async function renewGraphToken(
  renewal: GraphTokenRenewal,
  baseUrl: string,
  credentials: Credentials,
  http: RawHttp,
  now: () => number,
): Promise<Credentials> {
  const url = new URL(renewal.path, baseUrl.replace(/\/?$/, '/'));
  for (const [name, value] of Object.entries(renewal.query(credentials.accessToken))) {
    url.searchParams.set(name, value);
  }
  const res = await http({ method: 'GET', url: url.toString() });
  return credentialsFrom(res, credentials, now(), renewal.what);
}
