/**
 * Sign-in links: `<base>/portal/#token=<jwt>`. The token travels in the URL fragment, which
 * browsers never send to the server, so it reaches no access log; the portal keeps it in
 * sessionStorage. The embedded first start creates the platform administrator and prints one.
 */
import type { Config } from '../../config/schema.js';
import type { AccountStore, Account } from './accounts.js';
import type { TokenService } from './tokens.js';

/** The viewer API's base URL as configured (publicUrl, else host and port). */
export function configuredBaseUrl(config: Pick<Readonly<Config>, 'viewerApi'>): string {
  const { publicUrl, host, port } = config.viewerApi;
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function signInLink(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/portal/#token=${token}`;
}

/** A token for an account, and its sign-in link. */
export async function signInFor(
  tokens: TokenService,
  account: Pick<Account, 'accountId' | 'kind' | 'organisationId'>,
  baseUrl: string,
  ttlSeconds?: number,
): Promise<{ token: string; expiresAt: string; link: string }> {
  const { token, expiresAt } = await tokens.sign(
    {
      sub: account.accountId,
      kind: account.kind,
      ...(account.organisationId ? { organisationId: account.organisationId } : {}),
    },
    ttlSeconds,
  );
  return { token, expiresAt, link: signInLink(baseUrl, token) };
}

/**
 * The first platform administrator: created when the installation has none. Returns it only when
 * it was created now (first start), so that its link is printed once.
 */
export async function createFirstPlatformAdmin(
  accounts: AccountStore,
): Promise<Account | undefined> {
  if ((await accounts.list('platform-admin')).length > 0) return undefined;
  return accounts.create({ kind: 'platform-admin', displayName: 'Platform administrator' });
}
