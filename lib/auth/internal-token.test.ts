// The gateway's signed caller: only a token this secret signed, unexpired, for this audience,
// names a caller; anything else is refused without an exception escaping.
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import type { Caller } from './caller.ts';
import { createInternalTokens } from './internal-token.ts';

const SECRET = 'the-secret-shared-by-loupe-processes-0001';
const PARTNER: Caller = {
  orgId: 'org-7',
  timeZone: 'Asia/Kolkata',
  role: 'partner',
  client: 'acme',
};

describe('internal tokens', () => {
  test('a signed caller verifies to the same caller, member and partner alike', async () => {
    const tokens = createInternalTokens(SECRET);
    const member: Caller = { orgId: 'org-1', timeZone: 'UTC', role: 'member' };
    expect(await tokens.verify(await tokens.sign(member))).toEqual(member);
    expect(await tokens.verify(await tokens.sign(PARTNER))).toEqual(PARTNER);
  });

  test('another secret, a changed payload, an unsigned token and garbage are refused', async () => {
    const tokens = createInternalTokens(SECRET);
    const forger = createInternalTokens('another-secret-of-the-same-length-0001');
    expect(await tokens.verify(await forger.sign(PARTNER))).toBeNull();

    const [header, , signature] = (await tokens.sign(PARTNER)).split('.');
    const admin = Buffer.from(JSON.stringify({ ...claims(PARTNER), role: 'admin' })).toString(
      'base64url',
    );
    expect(await tokens.verify(`${header}.${admin}.${signature}`)).toBeNull();

    const unsigned = new UnsecuredJWT(claims(PARTNER))
      .setIssuer('loupe-gateway')
      .setAudience('loupe-subgraphs')
      .setExpirationTime('5m')
      .encode();
    expect(await tokens.verify(unsigned)).toBeNull();
    for (const junk of ['', 'x', 'a.b.c', 'loupe_demo_0000000000000000']) {
      expect(await tokens.verify(junk)).toBeNull();
    }
  });

  test('a token for another audience, or naming an unknown role, is refused', async () => {
    const tokens = createInternalTokens(SECRET);
    const key = new TextEncoder().encode(SECRET);
    const sign = (payload: Record<string, unknown>, audience: string) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('loupe-gateway')
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(key);
    expect(await tokens.verify(await sign(claims(PARTNER), 'someone-else'))).toBeNull();
    expect(
      await tokens.verify(await sign({ ...claims(PARTNER), role: 'owner' }, 'loupe-subgraphs')),
    ).toBeNull();
    expect(await tokens.verify(await sign(claims(PARTNER), 'loupe-subgraphs'))).toEqual(PARTNER);
  });

  test('a token expires five minutes after signing, also once it was verified', async () => {
    let now = Date.parse('2026-03-08T09:00:00Z');
    const tokens = createInternalTokens(SECRET, () => now);
    const token = await tokens.sign(PARTNER);
    expect(await tokens.verify(token)).toEqual(PARTNER);
    now += 4 * 60_000;
    expect(await tokens.verify(token)).toEqual(PARTNER);
    // The signer renews before the end, so the gateway never sends one about to lapse.
    expect(await tokens.sign(PARTNER)).not.toBe(token);
    now += 60_000 + 6_000; // past expiry and the 5 s clock tolerance
    expect(await tokens.verify(token)).toBeNull();
  });

  test('a secret shorter than 256 bits is refused', () => {
    expect(() => createInternalTokens('short')).toThrow(/at least 32 characters/);
  });
});

function claims(caller: Caller): Record<string, unknown> {
  return { org: caller.orgId, tz: caller.timeZone, role: caller.role, client: caller.client };
}
