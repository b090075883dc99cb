import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenCipher, parseTokenKeys } from './token-cipher.ts';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('token cipher', () => {
  it('seals a token into bytes that do not hold it, and opens it again', () => {
    const cipher = createTokenCipher([key('k1')]);
    const token = 'EAAB-very-secret-token-1234567890';
    const sealed = cipher.seal(token, 'org-1/acct-1');
    expect(sealed).not.toContain(token);
    expect(Buffer.from(sealed).includes(Buffer.from(token))).toBe(false);
    expect(cipher.keyIdOf(sealed)).toBe('k1');
    expect(cipher.open(sealed, 'org-1/acct-1')).toBe(token);
    // A fresh IV each time: the same token never seals to the same value.
    expect(cipher.seal(token, 'org-1/acct-1')).not.toBe(sealed);
  });

  it('refuses a value altered by one character, or moved to another connection', () => {
    const cipher = createTokenCipher([key('k1')]);
    const sealed = cipher.seal('token', 'org-1/acct-1');
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    const altered = `${sealed.slice(0, -2)}${last}${sealed.at(-1)}`;
    expect(() => cipher.open(altered, 'org-1/acct-1')).toThrow(/does not open/);
    expect(() => cipher.open(sealed, 'org-2/acct-1')).toThrow(/another row/);
  });

  it('opens values sealed under an older key after rotation, and seals new ones under the new key', () => {
    const old = key('2025');
    const sealedBefore = createTokenCipher([old]).seal('token', 'o/a');
    const rotated = createTokenCipher([key('2026'), old]);
    expect(rotated.open(sealedBefore, 'o/a')).toBe('token');
    expect(rotated.keyIdOf(rotated.seal('token', 'o/a'))).toBe('2026');
    // Once the old key is dropped, its values name it in the error.
    expect(() => createTokenCipher([key('2026')]).open(sealedBefore, 'o/a')).toThrow(/key 2025/);
  });

  it('parses the configured key list and says what is wrong with a bad one', () => {
    const b64 = randomBytes(32).toString('base64');
    expect(parseTokenKeys(`a:${b64},b:${b64}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseTokenKeys(`a:${randomBytes(16).toString('base64')}`)).toThrow(/16 bytes/);
    expect(() => parseTokenKeys(b64)).toThrow(/expected id:base64key/);
    expect(() => parseTokenKeys(`a:${b64},a:${b64}`)).toThrow(/share an id/);
  });
});
