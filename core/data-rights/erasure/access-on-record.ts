/**
 * The erasure's hook into the grants tables (owned by the grants branch, migration 0002): every
 * grant and share link whose scope is the erased patient record or one of its studies goes with it.
 * Tables that do not exist (a deployment without 0002) count as nothing to revoke.
 */
import type { SqlQueryable } from '../../archive/sql-client.js';

export interface AccessRemoved {
  grants: number;
  shareLinks: number;
}

async function tableExists(sql: SqlQueryable, table: string): Promise<boolean> {
  const [row] = await sql.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
  return row.present === true;
}

/** Columns of a table, to match whichever scope columns the grants schema has. */
async function columns(sql: SqlQueryable, table: string): Promise<Set<string>> {
  const rows = await sql.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1`,
    [table],
  );
  return new Set(rows.map((r) => r.column_name as string));
}

/** Deletes the rows of `table` scoped to the patient record or to one of its studies. */
async function deleteScoped(
  sql: SqlQueryable,
  table: string,
  patientKey: string,
  StudyInstanceUIDs: readonly string[],
): Promise<number> {
  if (!(await tableExists(sql, table))) return 0;
  const have = await columns(sql, table);
  const where: string[] = [];
  if (have.has('patient_key')) where.push(`patient_key::text = $1`);
  if (have.has('study_instance_uid')) where.push(`study_instance_uid = ANY($2::text[])`);
  if (where.length === 0) return 0;
  const rows = await sql.query(`DELETE FROM ${table} WHERE ${where.join(' OR ')} RETURNING 1`, [
    patientKey,
    StudyInstanceUIDs,
  ]);
  return rows.length;
}

/** Removes the grants and share links on a patient record (one transaction with the erasure's end). */
export async function removeAccessOnRecord(
  sql: SqlQueryable,
  patientKey: string,
  StudyInstanceUIDs: readonly string[],
): Promise<AccessRemoved> {
  return {
    grants: await deleteScoped(sql, 'access_grant', patientKey, StudyInstanceUIDs),
    shareLinks: await deleteScoped(sql, 'share_link', patientKey, StudyInstanceUIDs),
  };
}

/** The links between patient accounts and the record go too (the account itself stays). */
export async function removeRecordLinks(sql: SqlQueryable, patientKey: string): Promise<number> {
  if (!(await tableExists(sql, 'patient_record_link'))) return 0;
  const rows = await sql.query(
    `DELETE FROM patient_record_link WHERE patient_key::text = $1 RETURNING 1`,
    [patientKey],
  );
  return rows.length;
}
