// How a subgraph knows a request came through the gateway: the gateway verifies the caller's key
// (or token) once, then hands each subgraph the verified caller as a short-lived JWS signed with a
// secret only Loupe's processes share (HS256). A subgraph trusts that header and nothing else, so
// an API key sent straight to a subgraph's port gets nowhere.
import { errors, jwtVerify, SignJWT } from 'jose';
import { KEY_ROLES, type Caller, type KeyRole } from './caller.ts';

/** The header carrying the gateway's signed caller on every subgraph request. */
export const INTERNAL_CALLER_HEADER = 'x-loupe-caller';
/** The graphql-ws connection parameter carrying the same token. */
export const INTERNAL_CALLER_PARAM = 'loupeCaller';

/** Shortest secret accepted: 256 bits, as HS256 wants. */
export const MIN_INTERNAL_SECRET_LENGTH = 32;

const ISSUER = 'loupe-gateway';
const AUDIENCE = 'loupe-subgraphs';
const LIFETIME_S = 300;
/** A token is signed again once less than this much of its life is left. */
const RENEW_BEFORE_S = 60;
/** Clocks of Loupe's processes may differ this much. */
const CLOCK_TOLERANCE_S = 5;
/** Verified tokens remembered; the map is emptied when it grows past this. */
const MAX_REMEMBERED = 10_000;

export interface InternalTokens {
  /** A token for this caller; the same string is reused for most of its lifetime. */
  sign(caller: Caller): Promise<string>;
  /** The caller a token names, or null when it is forged, expired or malformed. */
  verify(token: string): Promise<Caller | null>;
}

export function createInternalTokens(secret: string, now: () => number = Date.now): InternalTokens {
  if (secret.length < MIN_INTERNAL_SECRET_LENGTH) {
    throw new RangeError(
      `the internal secret must be at least ${MIN_INTERNAL_SECRET_LENGTH} characters`,
    );
  }
  const key = new TextEncoder().encode(secret);
  const signed = new Map<string, { token: string; renewAt: number }>();
  const verified = new Map<string, { caller: Caller; expiresAt: number }>();

  return {
    async sign(caller) {
      const id = `${caller.orgId}\n${caller.role}\n${caller.client ?? ''}\n${caller.timeZone}`;
      const seconds = Math.floor(now() / 1000);
      const kept = signed.get(id);
      if (kept && kept.renewAt > seconds) return kept.token;
      const token = await new SignJWT({
        org: caller.orgId,
        tz: caller.timeZone,
        role: caller.role,
        ...(caller.client !== undefined && { client: caller.client }),
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(seconds)
        .setExpirationTime(seconds + LIFETIME_S)
        .sign(key);
      if (signed.size >= MAX_REMEMBERED) signed.clear();
      signed.set(id, { token, renewAt: seconds + LIFETIME_S - RENEW_BEFORE_S });
      return token;
    },

    async verify(token) {
      const kept = verified.get(token);
      if (kept) {
        if (kept.expiresAt > now()) return kept.caller;
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['HS256'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
        });
        const caller = callerOf(payload);
        if (!caller || typeof payload.exp !== 'number') return null;
        if (verified.size >= MAX_REMEMBERED) verified.clear();
        verified.set(token, { caller, expiresAt: payload.exp * 1000 });
        return caller;
      } catch (error) {
        if (error instanceof errors.JOSEError) return null;
        throw error;
      }
    },
  };
}

function callerOf(payload: Record<string, unknown>): Caller | null {
  const { org, tz, role, client } = payload;
  if (typeof org !== 'string' || typeof tz !== 'string') return null;
  if (!KEY_ROLES.includes(role as KeyRole)) return null;
  if (client !== undefined && typeof client !== 'string') return null;
  return {
    orgId: org,
    timeZone: tz,
    role: role as KeyRole,
    ...(client !== undefined && { client }),
  };
}
