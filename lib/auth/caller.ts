// Who is calling: always an organisation verified from an API key, never from arguments.

export interface Caller {
  orgId: string;
  /** The organisation's IANA time zone: range queries bucket in it unless told otherwise. */
  timeZone: string;
}

/** Resolves an API key to its organisation, or null when the key is unknown or revoked. */
export type Authenticator = (apiKey: string) => Promise<Caller | null>;

export const API_KEY_HEADER = 'x-api-key';
