// Who is calling: always an organisation verified from an API key, never from arguments.

/**
 * What a key may do: `admin` everything; `member` reads, plus the organisation's own competitor
 * sets and schedules; `partner` only its client's persisted operations; `ingest` only post events.
 */
export const KEY_ROLES = ['admin', 'member', 'partner', 'ingest'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export interface Caller {
  orgId: string;
  /** The organisation's IANA time zone: range queries bucket in it unless told otherwise. */
  timeZone: string;
  role: KeyRole;
  /** The partner client a `partner` key is bound to. */
  client?: string;
}

/** Resolves an API key to its organisation, or null when the key is unknown or revoked. */
export type Authenticator = (apiKey: string) => Promise<Caller | null>;

export const API_KEY_HEADER = 'x-api-key';

/**
 * Why this caller may not query the GraphQL API, or null when it may. A partner may, but only the
 * operations published for its client: the gateway's trusted documents decide which
 * (gateway/trusted-documents.ts), and it is the only signer subgraphs trust.
 */
export function queryRefusal(caller: Caller): string | null {
  if (caller.role === 'ingest') {
    return 'an ingest key may only post events to the collector (POST /v1/events); query with a member or admin key';
  }
  return null;
}

/** Why this caller may not post events, or null when it may. */
export function ingestRefusal(caller: Caller): string | null {
  return caller.role === 'ingest' || caller.role === 'admin'
    ? null
    : `a ${caller.role} key cannot post events; use an ingest key`;
}
