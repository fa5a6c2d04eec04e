/**
 * Patient-issued grants to doctors: create, list (given by a patient, received by a doctor) and
 * revoke. A revocation is a row update read by the next statement of every request (scope-sql.ts):
 * effective at once. Share links hold their grant in the same table (share-links.ts).
 */
import type { SqlClient, SqlQueryable } from '../archive/sql-client.js';
import { LightboxError } from '../errors.js';
import { newId } from './accounts.js';
import {
  isoOrNull,
  resolveGrantScope,
  scopeOfRow,
  type GrantScope,
  type ResolvedScope,
} from './grant-scope.js';
import type { Access } from './scope.js';

export interface Grant {
  grantId: string;
  grantee: { kind: 'doctor'; accountId: string; displayName: string };
  grantor: { accountId: string; displayName: string };
  scope: GrantScope;
  access: Access;
  expiresAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface NewGrant {
  granteeAccountId: string;
  scope: GrantScope;
  access: Access;
  expiresAt: string | null;
}

const SELECT_GRANTS = `
  SELECT g.*, ge.display_name AS grantee_name, gr.display_name AS grantor_name
  FROM access_grant g
  JOIN account ge ON ge.account_id = g.grantee_account_id
  JOIN account gr ON gr.account_id = g.grantor_account_id`;

/** Inserts one grant row (to an account or to a share link). */
export async function insertGrant(
  sql: SqlQueryable,
  row: {
    grantorAccountId: string;
    grantee: { accountId: string } | { shareLinkId: string };
    scope: ResolvedScope;
    access: Access;
    expiresAt: string | null;
  },
): Promise<string> {
  const grantId = newId('grt');
  await sql.query(
    `INSERT INTO access_grant (grant_id, grantor_account_id, grantee_account_id,
       grantee_share_link_id, patient_key, study_instance_uid, series_instance_uid, access, expires_at)
     VALUES ($1, $2, $3, $4, $5::bigint, $6, $7, $8, $9::timestamptz)`,
    [
      grantId,
      row.grantorAccountId,
      'accountId' in row.grantee ? row.grantee.accountId : null,
      'shareLinkId' in row.grantee ? row.grantee.shareLinkId : null,
      row.scope.patientKey,
      row.scope.StudyInstanceUID,
      row.scope.SeriesInstanceUID,
      row.access,
      row.expiresAt,
    ],
  );
  return grantId;
}

export class GrantStore {
  constructor(private readonly sql: SqlClient) {}

  /** A patient grants a doctor access to one of their records, studies or series. */
  async create(grantorAccountId: string, grant: NewGrant): Promise<Grant> {
    const [doctor] = await this.sql.query(
      `SELECT 1 FROM account WHERE account_id = $1 AND kind = 'doctor'`,
      [grant.granteeAccountId],
    );
    if (!doctor) throw new LightboxError('NotFound', 'no such doctor');
    const scope = await resolveGrantScope(this.sql, grantorAccountId, grant.scope);
    const grantId = await insertGrant(this.sql, {
      grantorAccountId,
      grantee: { accountId: grant.granteeAccountId },
      scope,
      access: grant.access,
      expiresAt: grant.expiresAt,
    });
    const [row] = await this.sql.query(`${SELECT_GRANTS} WHERE g.grant_id = $1`, [grantId]);
    return toGrant(row);
  }

  /** Grants a patient gave to doctors (share links are listed as share links), newest first. */
  async given(grantorAccountId: string): Promise<Grant[]> {
    const rows = await this.sql.query(
      `${SELECT_GRANTS} WHERE g.grantor_account_id = $1 ORDER BY g.created_at DESC, g.grant_id`,
      [grantorAccountId],
    );
    return rows.map(toGrant);
  }

  /** Grants a doctor received that are still live, newest first. */
  async received(granteeAccountId: string): Promise<Grant[]> {
    const rows = await this.sql.query(
      `${SELECT_GRANTS} WHERE g.grantee_account_id = $1 AND g.revoked_at IS NULL
         AND (g.expires_at IS NULL OR g.expires_at > now())
       ORDER BY g.created_at DESC, g.grant_id`,
      [granteeAccountId],
    );
    return rows.map(toGrant);
  }

  /**
   * Revokes a grant the patient gave (idempotent). NotFound when it is not theirs. Returns the
   * grant's patient record and UIDs for the audit trail.
   */
  async revoke(grantorAccountId: string, grantId: string): Promise<Grant> {
    const rows = await this.sql.query(
      `UPDATE access_grant SET revoked_at = COALESCE(revoked_at, now())
       WHERE grant_id = $1 AND grantor_account_id = $2 AND grantee_account_id IS NOT NULL
       RETURNING grant_id`,
      [grantId, grantorAccountId],
    );
    if (rows.length === 0) throw new LightboxError('NotFound', 'not found');
    const [row] = await this.sql.query(`${SELECT_GRANTS} WHERE g.grant_id = $1`, [grantId]);
    return toGrant(row);
  }
}

function toGrant(row: Record<string, unknown>): Grant {
  return {
    grantId: row.grant_id as string,
    grantee: {
      kind: 'doctor',
      accountId: row.grantee_account_id as string,
      displayName: row.grantee_name as string,
    },
    grantor: {
      accountId: row.grantor_account_id as string,
      displayName: row.grantor_name as string,
    },
    scope: scopeOfRow(row),
    access: row.access as Access,
    expiresAt: isoOrNull(row.expires_at),
    createdAt: new Date(row.created_at as string).toISOString(),
    revokedAt: isoOrNull(row.revoked_at),
  };
}
