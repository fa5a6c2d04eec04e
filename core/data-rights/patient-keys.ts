/**
 * Which patient records a principal may exercise rights on: a patient, the records linked to their
 * account (patient_record_link, owned by the grants branch's migration 0002). Anyone else: none.
 * Without the link table (no 0002 yet), nobody has records.
 */
import type { SqlQueryable } from '../archive/sql-client.js';
import type { Principal } from '../grants/principal.js';

export type PatientKeysOf = (principal: Principal | undefined) => Promise<string[]>;

export function linkedPatientKeys(sql: SqlQueryable): PatientKeysOf {
  return async (principal) => {
    if (principal?.kind !== 'patient') return [];
    const [table] = await sql.query(
      `SELECT to_regclass('patient_record_link') IS NOT NULL AS present`,
    );
    if (table.present !== true) return [];
    const rows = await sql.query(
      `SELECT patient_key::text AS k FROM patient_record_link WHERE account_id = $1`,
      [principal.accountId],
    );
    return rows.map((r) => r.k as string);
  };
}
