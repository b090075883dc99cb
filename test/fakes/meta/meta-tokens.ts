// Access tokens as A.10 describes them: opaque, long-lived for 5183944 s, an IG refresh only for
// a token at least 24 h old and unexpired, an FB exchange only for an unexpired token.
import { randomBytes } from 'node:crypto';
import {
  expiredToken,
  graphError,
  invalidToken,
  revokedToken,
  type GraphError,
} from './meta-errors.ts';

export const LONG_LIVED_SECONDS = 5_183_944;
const REFRESH_MIN_AGE_MS = 24 * 3_600_000;

export interface IssuedToken {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface IssueOptions {
  /** When the token was issued (epoch ms), for tokens old enough to refresh. */
  issuedAt?: number;
  lifetimeSeconds?: number;
}

interface TokenRecord {
  accountId: string;
  issuedAt: number;
  expiresAt: number;
  /** Ended by `expire()` before its time, its grant still good (see `TokenStore.expire`). */
  endedAt?: number;
  revoked?: 458 | 460;
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  /** Grants revoked per account, until the account connects again (a new `issue`). */
  private readonly revokedAccounts = new Map<string, 458 | 460>();

  constructor(private readonly now: () => number) {}

  issue(accountId: string, options: IssueOptions = {}): IssuedToken {
    this.revokedAccounts.delete(accountId);
    const issuedAt = options.issuedAt ?? this.now();
    const expiresAt = issuedAt + (options.lifetimeSeconds ?? LONG_LIVED_SECONDS) * 1000;
    const accessToken = `EA${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { accountId, issuedAt, expiresAt });
    return { accessToken, expiresAt };
  }

  /** The account a token may read for, or the refusal Graph answers. */
  check(token: string): { accountId: string } | GraphError {
    const record = this.tokens.get(token);
    if (!record) return invalidToken();
    const revoked = record.revoked ?? this.revokedAccounts.get(record.accountId);
    if (revoked) return revokedToken(revoked);
    const now = this.now();
    if (record.endedAt !== undefined) return expiredToken(record.endedAt);
    if (record.expiresAt <= now) return expiredToken(record.expiresAt);
    return { accountId: record.accountId };
  }

  /**
   * A test device: the token answers 190/463 from now on, as a session Meta ended before the
   * expiry we recorded, while its grant can still be refreshed. A token past its real expiry
   * cannot be (A.10).
   */
  expire(token: string): void {
    const record = this.tokens.get(token);
    if (record) record.endedAt = this.now();
  }

  revoke(accountIdOrToken: string, subcode: 458 | 460 = 460): void {
    const record = this.tokens.get(accountIdOrToken);
    if (record) record.revoked = subcode;
    else this.revokedAccounts.set(accountIdOrToken, subcode);
  }

  /** `GET /refresh_access_token?grant_type=ig_refresh_token` (A.10). */
  refreshInstagram(token: string): IssuedToken | GraphError {
    const record = this.tokens.get(token);
    if (!record) return invalidToken();
    const refusal = this.refusal(record);
    if (refusal) return refusal;
    if (this.now() - record.issuedAt < REFRESH_MIN_AGE_MS) {
      return graphError(400, 100, '(#100) A token can be refreshed once it is 24 hours old');
    }
    return this.issue(record.accountId);
  }

  /** `GET /oauth/access_token?grant_type=fb_exchange_token` (A.10). */
  exchangeFacebook(token: string): IssuedToken | GraphError {
    const record = this.tokens.get(token);
    if (!record) return invalidToken();
    return this.refusal(record) ?? this.issue(record.accountId);
  }

  private refusal(record: TokenRecord): GraphError | undefined {
    const revoked = record.revoked ?? this.revokedAccounts.get(record.accountId);
    if (revoked) return revokedToken(revoked);
    if (record.expiresAt <= this.now()) return expiredToken(record.expiresAt);
    return undefined;
  }
}
