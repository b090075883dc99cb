// Platform tokens at rest: AES-256-GCM under a key named by an id, so keys can be rotated. The
// first configured key seals; every configured key opens, so rows sealed under an older key keep
// working until they are sealed again. Each sealed value is bound to its connection (the
// associated data), so a value copied onto another row does not open there.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface TokenKey {
  /** Short name stored beside each sealed value: `[A-Za-z0-9_-]{1,32}`. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export interface TokenCipher {
  /** The id of the key new values are sealed with. */
  readonly activeKeyId: string;
  seal(plaintext: string, boundTo: string): string;
  /** Throws when the key is unknown, the value was altered, or it belongs to another row. */
  open(sealed: string, boundTo: string): string;
  /** The key id a sealed value names, without opening it. */
  keyIdOf(sealed: string): string;
}

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Parses `id:base64key[,id:base64key…]`, the form LOUPE_TOKEN_KEYS takes; throws with the reason. */
export function parseTokenKeys(text: string): TokenKey[] {
  const keys = text.split(',').map((part, index) => {
    const [id, encoded, ...rest] = part.trim().split(':');
    if (!id || encoded === undefined || rest.length > 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new Error(`key ${index + 1}: expected id:base64key, with an id of [A-Za-z0-9_-]{1,32}`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32) {
      throw new Error(`key ${id}: ${key.length} bytes after base64; AES-256 needs 32`);
    }
    return { id, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new Error('two keys share an id');
  return keys;
}

export function createTokenCipher(keys: readonly TokenKey[]): TokenCipher {
  const active = keys[0];
  if (!active) throw new Error('at least one token key is needed');
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const split = (sealed: string) => {
    const [format, keyId, iv, body, ...rest] = sealed.split('.');
    if (format !== FORMAT || !keyId || !iv || !body || rest.length > 0) {
      throw new Error('not a sealed token');
    }
    return { keyId, iv: Buffer.from(iv, 'base64url'), body: Buffer.from(body, 'base64url') };
  };
  return {
    activeKeyId: active.id,
    seal(plaintext, boundTo) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', active.key, iv);
      cipher.setAAD(Buffer.from(boundTo, 'utf8'));
      const body = Buffer.concat([
        cipher.update(plaintext, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return [FORMAT, active.id, iv.toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, boundTo) {
      const { keyId, iv, body } = split(sealed);
      const key = byId.get(keyId);
      if (!key) throw new Error(`sealed under key ${keyId}, which is not configured`);
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new Error('not a sealed token');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new Error(
          `a sealed token under key ${keyId} does not open: altered, or another row's`,
        );
      }
    },
    keyIdOf: (sealed) => split(sealed).keyId,
  };
}
