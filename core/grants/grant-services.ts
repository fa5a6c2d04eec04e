/**
 * Everything of core/grants and core/audit a process needs, over the index database: the access
 * decisions, accounts, grants, share links, tokens (with the local signing key) and the audit log.
 * Built once per process by createServices.
 */
import type { Config } from '../../config/schema.js';
import type { SqlClient } from '../archive/sql-client.js';
import type { AuditLog } from '../audit/audit-log.js';
import { AuditTrail } from '../audit/audit-trail.js';
import { SqlAuditLog } from '../audit/sql-audit-log.js';
import type { Logger } from '../log.js';
import { AccountStore } from './accounts.js';
import { AccessControl } from './grants.js';
import { GrantStore } from './grant-store.js';
import { ShareLinkStore } from './share-links.js';
import { loadOrCreateSigningKey, signingKeyFile } from './signing-key.js';
import { TokenService } from './tokens.js';
import type { OrganisationConfig } from '../../config/schema.js';

export interface GrantServices {
  access: AccessControl;
  accounts: AccountStore;
  grants: GrantStore;
  shareLinks: ShareLinkStore;
  tokens: TokenService;
  audit: AuditLog;
  auditTrail: AuditTrail;
  organisations: readonly OrganisationConfig[];
}

export async function createGrantServices(
  config: Readonly<Config>,
  sql: SqlClient,
  log: Logger,
): Promise<GrantServices> {
  const key = await loadOrCreateSigningKey(signingKeyFile(config));
  return {
    access: new AccessControl(sql),
    accounts: new AccountStore(sql),
    grants: new GrantStore(sql),
    shareLinks: new ShareLinkStore(sql),
    tokens: await TokenService.create(config.auth, key),
    audit: new SqlAuditLog(sql, log.child({ component: 'audit' })),
    auditTrail: new AuditTrail(sql, config.organisations),
    organisations: config.organisations,
  };
}
