/**
 * Principal resolution: a bearer credential → a Principal, or Unauthorized. Two credentials:
 * - the archive reader's API token (viewerApi.apiToken, compared as SHA-256 digests in constant time);
 * - a JWT (tokens.ts) whose claims name an account that exists with that kind (so that deleting an
 *   account ends its tokens at once), or a configured organisation.
 * Unknown kinds, unknown accounts, a kind that disagrees with the account: Unauthorized.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { OrganisationConfig } from '../../config/schema.js';
import { LightboxError } from '../errors.js';
import type { AccountStore } from './accounts.js';
import type { Principal } from './principal.js';
import type { TokenService } from './tokens.js';

export interface AuthenticatorDeps {
  apiToken?: string;
  tokens: TokenService;
  accounts: AccountStore;
  organisations: readonly OrganisationConfig[];
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  /** The principal of a bearer token; throws Unauthorized. */
  async principalOf(token: string): Promise<Principal> {
    const { apiToken } = this.deps;
    if (apiToken && timingSafeEqual(digest(token), digest(apiToken))) {
      return { kind: 'archive-reader' };
    }
    if (!JWT.test(token)) throw new LightboxError('Unauthorized', 'invalid bearer token');
    const principal = await this.fromClaims(await this.deps.tokens.verify(token));
    if (!principal) throw new LightboxError('Unauthorized', 'invalid bearer token');
    return principal;
  }

  /** The principal the verified claims name, if it exists as named. */
  async fromClaims(claims: JWTPayload): Promise<Principal | undefined> {
    const { kind, sub } = claims;
    if (kind === 'organisation') {
      const id = claims.organisationId;
      const known = this.deps.organisations.some((o) => o.id === id);
      return known ? { kind, organisationId: id as string } : undefined;
    }
    if (typeof sub !== 'string') return undefined;
    const account = await this.deps.accounts.get(sub);
    if (!account || account.kind !== kind) return undefined;
    switch (account.kind) {
      case 'patient':
      case 'doctor':
      case 'platform-admin':
        return { kind: account.kind, accountId: account.accountId };
      case 'organisation-admin':
        if (claims.organisationId !== undefined && claims.organisationId !== account.organisationId)
          return undefined;
        return {
          kind: account.kind,
          accountId: account.accountId,
          organisationId: account.organisationId!,
        };
    }
  }
}
