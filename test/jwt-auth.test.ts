// Front-end JWTs at the gateway (embedded product): a token signed by a key of the configured
// JWKS, for the configured issuer and audience, naming an organisation, opens it as a member; an
// expired, forged, wrong-audience or orgless token is UNAUTHENTICATED with the reason. The JWKS
// is given as a file to one product, and as a URL (a local server) to another.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningLoupe } from '../scripts/runtime.ts';
import { startEmbeddedProduct } from './support/embedded-product.ts';

const KEY = 'loupe_jwt_key_0123456789ab';
const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'loupe-dashboards';
let trusted: CryptoKey;
let stranger: CryptoKey;
let loupe: RunningLoupe;
let jwksServer: Server;
let jwksFile: string;
let jwksUrl: string;
let dir: string;
let orgId: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  trusted = pair.privateKey;
  stranger = (await generateKeyPair('RS256')).privateKey;
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }],
  });
  dir = await mkdtemp(join(tmpdir(), 'loupe-jwt-'));
  jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, jwks);
  jwksServer = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(jwks);
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => jwksServer?.close());

/** One product at a time: chDB opens one data directory per process. */
function productWith(jwks: () => string, name: string): void {
  beforeAll(async () => {
    loupe = await startEmbeddedProduct(
      KEY,
      { LOUPE_JWT_JWKS: jwks(), LOUPE_JWT_ISSUER: ISSUER, LOUPE_JWT_AUDIENCE: AUDIENCE },
      join(dir, name),
    );
    orgId = (await loupe.createOrganisation('Token org')).orgId;
  }, 60_000);
  afterAll(async () => loupe?.close());
}

function token(options: {
  key?: CryptoKey;
  audience?: string;
  expires?: string | number;
  claims?: Record<string, unknown>;
}) {
  return new SignJWT({ org: orgId, ...options.claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject('user-7')
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '5m')
    .sign(options.key ?? trusted);
}

async function ask(bearer: string, query = '{ organisation { id name } }') {
  const res = await fetch(loupe.urls.gateway!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as {
    data?: { organisation?: { id: string } };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return { status: res.status, body };
}

describe('a JWT in Authorization: Bearer, the JWKS from a file', () => {
  productWith(() => jwksFile, 'file');

  test('a valid token opens its organisation as a member', async () => {
    const answer = await ask(await token({}));
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data?.organisation).toEqual({ id: orgId, name: 'Token org' });
    // A member: it reads, and cannot administer.
    const keys = await ask(await token({}), '{ apiKeys { id } }');
    expect(keys.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const admin = await ask(await token({ claims: { role: 'admin' } }), '{ apiKeys { id } }');
    expect(admin.body.errors).toBeUndefined();
  });

  test.each([
    ['expired', { expires: Math.floor(Date.now() / 1000) - 60 }, /has expired/],
    ['forged', { forged: true }, /not signed by a key this API trusts/],
    [
      'for another audience',
      { audience: 'someone-else' },
      /aud claim is not what this API accepts/,
    ],
    ['without an organisation', { claims: { org: '' } }, /no org claim naming an organisation/],
    [
      'for an organisation that does not exist',
      { claims: { org: 'no-such-org' } },
      /does not exist/,
    ],
  ] as const)('%s: 401 UNAUTHENTICATED with the reason', async (_, options, reason) => {
    const { forged, ...rest } = { forged: false, ...options };
    const answer = await ask(await token({ ...rest, ...(forged && { key: stranger }) }));
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(answer.body.errors?.[0]?.message).toMatch(reason);
    expect(answer.body.data).toBeUndefined();
  });

  test('garbage in the header is UNAUTHENTICATED, not an error of ours', async () => {
    const answer = await ask('not.a.jwt');
    expect([answer.status, answer.body.errors?.[0]?.extensions?.code]).toEqual([
      401,
      'UNAUTHENTICATED',
    ]);
  });
});

describe('a JWT in Authorization: Bearer, the JWKS from a URL', () => {
  productWith(() => jwksUrl, 'url');

  test('a valid token opens its organisation; a forged one is refused', async () => {
    const answer = await ask(await token({}));
    expect(answer.body.data?.organisation?.id).toBe(orgId);
    const forged = await ask(await token({ key: stranger }));
    expect(forged.body.errors?.[0]?.message).toMatch(/not signed by a key this API trusts/);
  });
});
