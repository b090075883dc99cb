// User access and refresh tokens as TikTok's OAuth v2 issues them: `act.` tokens for 24 h,
// refresh tokens for 365 days from first issue (PLATFORMS.md C.5). Revoking a user ends both.
import { randomBytes } from 'node:crypto';

export const ACCESS_TTL_S = 86_400;
export const REFRESH_TTL_S = 31_536_000;

/** Every Display API scope; what `issueToken` grants unless told otherwise. */
export const ALL_SCOPES = [
  'user.info.basic',
  'user.info.profile',
  'user.info.stats',
  'video.list',
] as const;

export interface IssuedToken {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
  refreshExpiresAt: number;
  openId: string;
  scopes: string[];
}

export interface Grant {
  openId: string;
  clientKey: string;
  scopes: ReadonlySet<string>;
}

interface AccessEntry extends Grant {
  expiresAt: number;
}

interface RefreshEntry extends Grant {
  expiresAt: number;
}

export interface TokenStoreOptions {
  now: () => number;
  clientKey: string;
  /** A refresh answers a new refresh token and retires the old one; default false (kept). */
  rotateRefreshTokens: boolean;
}

export class TokenStore {
  private readonly access = new Map<string, AccessEntry>();
  private readonly refresh = new Map<string, RefreshEntry>();
  private readonly codes = new Map<string, Grant>();

  constructor(private readonly options: TokenStoreOptions) {}

  issue(openId: string, scopes: readonly string[] = ALL_SCOPES): IssuedToken {
    const now = this.options.now();
    const grant: Grant = { openId, clientKey: this.options.clientKey, scopes: new Set(scopes) };
    const refreshToken = `rft.${randomBytes(24).toString('hex')}`;
    const refreshExpiresAt = now + REFRESH_TTL_S * 1000;
    this.refresh.set(refreshToken, { ...grant, expiresAt: refreshExpiresAt });
    return { ...this.newAccess(grant), refreshToken, refreshExpiresAt };
  }

  /** An authorization code, as the redirect after Login Kit's consent page would carry. */
  code(openId: string, scopes: readonly string[] = ALL_SCOPES): string {
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { openId, clientKey: this.options.clientKey, scopes: new Set(scopes) });
    return code;
  }

  /** The grant behind a live access token, or undefined (unknown, expired, revoked). */
  check(accessToken: string | undefined): Grant | undefined {
    if (!accessToken) return undefined;
    const entry = this.access.get(accessToken);
    if (!entry || entry.expiresAt <= this.options.now()) return undefined;
    return entry;
  }

  /** New tokens for a refresh token, or undefined when the grant is gone. */
  redeem(refreshToken: string, clientKey: string): IssuedToken | undefined {
    const entry = this.refresh.get(refreshToken);
    if (!entry || entry.clientKey !== clientKey || entry.expiresAt <= this.options.now()) {
      return undefined;
    }
    let kept = refreshToken;
    if (this.options.rotateRefreshTokens) {
      this.refresh.delete(refreshToken);
      kept = `rft.${randomBytes(24).toString('hex')}`;
      // The 365 days run from the first issue, so a rotated token inherits the end.
      this.refresh.set(kept, entry);
    }
    return { ...this.newAccess(entry), refreshToken: kept, refreshExpiresAt: entry.expiresAt };
  }

  /** Tokens for an authorization code, once. */
  exchange(code: string, clientKey: string): IssuedToken | undefined {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || grant.clientKey !== clientKey) return undefined;
    return this.issue(grant.openId, [...grant.scopes]);
  }

  /** Makes an access token invalid now, as its 24 hours running out would. */
  expire(accessToken: string): void {
    const entry = this.access.get(accessToken);
    if (entry) entry.expiresAt = Number.NEGATIVE_INFINITY;
  }

  /** The user disconnected the app: every token of theirs stops working. */
  revoke(openId: string): void {
    for (const map of [this.access, this.refresh]) {
      for (const [token, entry] of map) if (entry.openId === openId) map.delete(token);
    }
  }

  private newAccess(grant: Grant): Omit<IssuedToken, 'refreshToken' | 'refreshExpiresAt'> {
    const accessToken = `act.${randomBytes(24).toString('hex')}`;
    const expiresAt = this.options.now() + ACCESS_TTL_S * 1000;
    this.access.set(accessToken, { ...grant, expiresAt });
    return { accessToken, expiresAt, openId: grant.openId, scopes: [...grant.scopes] };
  }
}
