/**
 * Restriction of processing (GDPR art. 18): while a patient record is restricted, only the patient
 * and the archive reader (the operator's integrity and backup tooling) read it. Grants and share
 * links on it do not serve, searches by anyone else do not return it: core/grants/scope-sql.ts adds
 * `unrestrictedSql()` to the grantee and organisation scopes, so every search and retrieve filters
 * in SQL (before limit and offset); `isStudyRestricted()` is there for a caller without SQL.
 */
import type { SqlQueryable } from '../archive/sql-client.js';
import { LightboxError } from '../errors.js';

/** SQL true when the patient of `patientKeyColumn` (e.g. 's.patient_key') is not restricted. */
export function unrestrictedSql(patientKeyColumn: string): string {
  return `NOT EXISTS (SELECT 1 FROM patient_restriction pr WHERE pr.patient_key = ${patientKeyColumn})`;
}

export async function restrictRecord(
  sql: SqlQueryable,
  patientKey: string,
  restrictedBy: string,
): Promise<void> {
  const rows = await sql.query(
    `INSERT INTO patient_restriction (patient_key, restricted_by)
     SELECT patient_key, $2 FROM patient WHERE patient_key = $1::bigint
     ON CONFLICT (patient_key) DO NOTHING RETURNING 1`,
    [patientKey, restrictedBy],
  );
  if (rows.length === 0 && !(await isRestricted(sql, patientKey))) {
    throw new LightboxError('NotFound', 'no such patient record');
  }
}

export async function liftRestriction(sql: SqlQueryable, patientKey: string): Promise<void> {
  await sql.query(`DELETE FROM patient_restriction WHERE patient_key = $1::bigint`, [patientKey]);
}

export async function isRestricted(sql: SqlQueryable, patientKey: string): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM patient_restriction WHERE patient_key = $1::bigint`, [
    patientKey,
  ]);
  return rows.length > 0;
}

/** True when the study belongs to a restricted patient record. */
export async function isStudyRestricted(
  sql: SqlQueryable,
  StudyInstanceUID: string,
): Promise<boolean> {
  const rows = await sql.query(
    `SELECT 1 FROM study s JOIN patient_restriction pr ON pr.patient_key = s.patient_key
     WHERE s.study_instance_uid = $1`,
    [StudyInstanceUID],
  );
  return rows.length > 0;
}
