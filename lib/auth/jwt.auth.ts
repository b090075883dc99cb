// Front-end apps may send a JWT (`Authorization: Bearer …`) instead of an API key: verified with
// jose against the configured JWKS (a file, or a URL fetched and cached by jose), checking the
// issuer, the audience, the expiry and an organisation claim naming an organisation that exists.
// Such a caller is a `member`, or an `admin` when the token's `role` claim says so.
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import type { Caller } from './caller.ts';

export interface JwtSettings {
  /** A path to a JWKS file, or an https:// or http:// URL serving one. */
  jwks: string;
  issuer: string;
  audience: string;
  /** The claim holding the organisation id. */
  orgClaim: string;
}

export type JwtVerdict = { caller: Caller; subject: string } | { refusal: string };

/** Reads the time zone of an organisation, or null when there is none with this id. */
export type OrganisationLookup = (orgId: string) => Promise<{ timeZone: string } | null>;

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

export function createJwtVerifier(
  settings: JwtSettings,
  organisation: OrganisationLookup,
): (token: string) => Promise<JwtVerdict> {
  const keys = keySet(settings.jwks);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        clockTolerance: 5,
      }));
    } catch (error) {
      return { refusal: reasonOf(error) };
    }
    const orgId = payload[settings.orgClaim];
    if (typeof orgId !== 'string' || orgId.length === 0) {
      return { refusal: `the token has no ${settings.orgClaim} claim naming an organisation` };
    }
    const org = await organisation(orgId);
    if (!org) return { refusal: `the token's organisation ${orgId} does not exist` };
    const role = payload['role'] === 'admin' ? 'admin' : 'member';
    const subject = typeof payload.sub === 'string' ? payload.sub : orgId;
    return { caller: { orgId, timeZone: org.timeZone, role }, subject };
  };
}

function keySet(jwks: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(jwks)) return createRemoteJWKSet(new URL(jwks));
  return createLocalJWKSet(JSON.parse(readFileSync(jwks, 'utf8')) as JSONWebKeySet);
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `the token's ${error.claim} claim is not what this API accepts`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'the token is not signed by a key this API trusts';
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'the token is not signed by a key this API trusts';
  }
  if (error instanceof errors.JOSEError) return 'the token is not a valid JWT';
  return 'the token could not be verified';
}
