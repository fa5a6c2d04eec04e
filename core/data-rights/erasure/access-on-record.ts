/**
 * The erasure's hook into the grants tables (migration 0002_accounts_grants_audit.sql): the grants
 * on the erased patient record (whatever their scope: record, study or series: every grant names
 * its patient_key), the share links those grants were made for, and the links between patient
 * accounts and the record. Accounts stay. Audit events stay too: they are the record of who did
 * what (they carry keys and UIDs, never names), kept under the controller's legal obligation.
 * A deployment without 0002 has nothing to remove.
 */
import type { SqlQueryable } from '../../archive/sql-client.js';

export interface AccessRemoved {
  grants: number;
  shareLinks: number;
  recordLinks: number;
}

async function tableExists(sql: SqlQueryable, table: string): Promise<boolean> {
  const [row] = await sql.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
  return row.present === true;
}

/** Removes grants, their share links and the account links of a record (one transaction). */
export async function removeAccessOnRecord(
  sql: SqlQueryable,
  patientKey: string,
): Promise<AccessRemoved> {
  if (!(await tableExists(sql, 'access_grant')))
    return { grants: 0, shareLinks: 0, recordLinks: 0 };
  // Links that served only this record's grants go; a link with grants elsewhere stays.
  const shareLinks = await sql.query(
    `DELETE FROM share_link sl
     WHERE EXISTS (SELECT 1 FROM access_grant g
                   WHERE g.grantee_share_link_id = sl.share_link_id AND g.patient_key = $1::bigint)
       AND NOT EXISTS (SELECT 1 FROM access_grant o
                       WHERE o.grantee_share_link_id = sl.share_link_id
                         AND o.patient_key <> $1::bigint)
     RETURNING 1`,
    [patientKey],
  );
  const grants = await sql.query(
    `DELETE FROM access_grant WHERE patient_key = $1::bigint RETURNING 1`,
    [patientKey],
  );
  const links = await sql.query(
    `DELETE FROM patient_record_link WHERE patient_key = $1::bigint RETURNING 1`,
    [patientKey],
  );
  return { grants: grants.length, shareLinks: shareLinks.length, recordLinks: links.length };
}
