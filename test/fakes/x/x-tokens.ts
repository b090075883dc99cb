// OAuth 2.0 user tokens as PLATFORMS.md B.5 describes them: 2-hour access tokens, refresh tokens
// only with offline.access, single-use and rotated on every refresh; reusing a rotated one ends
// the whole chain (every token issued from the same grant).
import { randomBytes } from 'node:crypto';

export const DEFAULT_SCOPES = ['tweet.read', 'users.read', 'offline.access'];

export interface IssuedToken {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
}

interface Chain {
  userId: string;
  clientId: string;
  scopes: string[];
  dead: boolean;
}

interface Access {
  chain: Chain;
  expiresAt: number;
}

interface Refresh {
  chain: Chain;
  used: boolean;
}

export type Authenticated =
  | { ok: true; userId: string; scopes: string[] }
  /** `userId` when the token was a real one, now expired or revoked. */
  | { ok: false; userId?: string };

export type RefreshOutcome =
  | { ok: true; token: IssuedToken; scopes: string[] }
  | { ok: false; error: 'invalid_grant'; description: string };

const token = (prefix: string) => `${prefix}${randomBytes(24).toString('base64url')}`;

export class XTokens {
  private readonly access = new Map<string, Access>();
  private readonly refreshes = new Map<string, Refresh>();
  private readonly chains: Chain[] = [];

  constructor(
    private readonly now: () => number,
    private readonly accessTtlMs: number,
  ) {}

  issue(userId: string, clientId: string, scopes = DEFAULT_SCOPES): IssuedToken {
    const chain: Chain = { userId, clientId, scopes, dead: false };
    this.chains.push(chain);
    return this.mint(chain);
  }

  authenticate(accessToken: string): Authenticated {
    const grant = this.access.get(accessToken);
    if (!grant) return { ok: false };
    if (grant.chain.dead || grant.expiresAt <= this.now()) {
      return { ok: false, userId: grant.chain.userId };
    }
    return { ok: true, userId: grant.chain.userId, scopes: grant.chain.scopes };
  }

  refresh(refreshToken: string, clientId: string): RefreshOutcome {
    const found = this.refreshes.get(refreshToken);
    const refused = (description: string): RefreshOutcome => ({
      ok: false,
      error: 'invalid_grant',
      description,
    });
    if (!found || found.chain.clientId !== clientId) {
      return refused('The refresh token is not valid.');
    }
    if (found.chain.dead) return refused('The refresh token has been revoked.');
    if (found.used) {
      // A rotated token presented again may have been stolen: nothing from this grant works.
      found.chain.dead = true;
      return refused('The refresh token was already used.');
    }
    found.used = true;
    return { ok: true, token: this.mint(found.chain), scopes: found.chain.scopes };
  }

  /** The access token stops working now, as if its two hours had passed. */
  expire(accessToken: string): void {
    const grant = this.access.get(accessToken);
    if (grant) grant.expiresAt = Math.min(grant.expiresAt, this.now());
  }

  /** The user took the app's access away: no access token or refresh token of theirs works. */
  revokeUser(userId: string): void {
    for (const chain of this.chains) if (chain.userId === userId) chain.dead = true;
  }

  private mint(chain: Chain): IssuedToken {
    const accessToken = token('xat-');
    const expiresAt = this.now() + this.accessTtlMs;
    this.access.set(accessToken, { chain, expiresAt });
    if (!chain.scopes.includes('offline.access')) return { accessToken, expiresAt };
    const refreshToken = token('xrt-');
    this.refreshes.set(refreshToken, { chain, used: false });
    return { accessToken, refreshToken, expiresAt };
  }
}
