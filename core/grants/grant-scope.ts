/**
 * What a grant covers, as the HTTP API names it ({ patientKey } | { StudyInstanceUID } |
 * { StudyInstanceUID, SeriesInstanceUID }), checked against the grantor: a patient can grant only
 * on their own records. Anything else is NotFound, like a record that does not exist.
 */
import type { SqlQueryable } from '../archive/sql-client.js';
import { assertValidUID } from '../dicom/uid.js';
import { LightboxError } from '../errors.js';
import type { Access } from './scope.js';

export type GrantScope =
  | { patientKey: string }
  | { StudyInstanceUID: string }
  | { StudyInstanceUID: string; SeriesInstanceUID: string };

/** A scope resolved to its patient record. */
export interface ResolvedScope {
  patientKey: string;
  StudyInstanceUID: string | null;
  SeriesInstanceUID: string | null;
}

const PATIENT_KEY = /^[1-9][0-9]{0,17}$/;

/** Validates the shape of a scope from a request body (400 when malformed). */
export function parseGrantScope(value: unknown): GrantScope {
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new LightboxError('BadRequest', 'scope must be an object');
  if (v.patientKey !== undefined) {
    if (typeof v.patientKey !== 'string' || !PATIENT_KEY.test(v.patientKey)) {
      throw new LightboxError('BadRequest', 'scope.patientKey must be a patient key');
    }
    return { patientKey: v.patientKey };
  }
  const StudyInstanceUID = assertValidUID(v.StudyInstanceUID as string, 'StudyInstanceUID');
  if (v.SeriesInstanceUID === undefined) return { StudyInstanceUID };
  const SeriesInstanceUID = assertValidUID(v.SeriesInstanceUID as string, 'SeriesInstanceUID');
  return { StudyInstanceUID, SeriesInstanceUID };
}

export function parseAccess(value: unknown): Access {
  if (value === 'read' || value === 'download') return value;
  throw new LightboxError('BadRequest', "access must be 'read' or 'download'");
}

/** An optional expiry in the future (ISO 8601), or null. */
export function parseExpiresAt(value: unknown, now = new Date()): string | null {
  if (value === undefined || value === null) return null;
  const at = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(at.getTime()))
    throw new LightboxError('BadRequest', 'expiresAt must be an ISO 8601 time');
  if (at <= now) throw new LightboxError('BadRequest', 'expiresAt must be in the future');
  return at.toISOString();
}

/** The patient record of a scope, if the grantor is linked to it; NotFound otherwise. */
export async function resolveGrantScope(
  sql: SqlQueryable,
  grantorAccountId: string,
  scope: GrantScope,
): Promise<ResolvedScope> {
  let rows: Array<Record<string, unknown>>;
  if ('patientKey' in scope) {
    rows = await sql.query(
      `SELECT patient_key::text AS patient_key FROM patient_record_link
       WHERE account_id = $1 AND patient_key = $2::bigint`,
      [grantorAccountId, scope.patientKey],
    );
  } else {
    const series = 'SeriesInstanceUID' in scope ? scope.SeriesInstanceUID : null;
    rows = await sql.query(
      `SELECT s.patient_key::text AS patient_key FROM study s
       JOIN patient_record_link l ON l.patient_key = s.patient_key AND l.account_id = $1
       WHERE s.study_instance_uid = $2
         AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM series se WHERE
              se.series_instance_uid = $3 AND se.study_instance_uid = s.study_instance_uid))`,
      [grantorAccountId, scope.StudyInstanceUID, series],
    );
  }
  if (rows.length === 0) throw new LightboxError('NotFound', 'not found');
  return {
    patientKey: rows[0].patient_key as string,
    StudyInstanceUID: 'StudyInstanceUID' in scope ? scope.StudyInstanceUID : null,
    SeriesInstanceUID: 'SeriesInstanceUID' in scope ? scope.SeriesInstanceUID : null,
  };
}

/** The API form of a grant row's scope. */
export function scopeOfRow(row: Record<string, unknown>): GrantScope {
  if (row.series_instance_uid) {
    return {
      StudyInstanceUID: row.study_instance_uid as string,
      SeriesInstanceUID: row.series_instance_uid as string,
    };
  }
  if (row.study_instance_uid) return { StudyInstanceUID: row.study_instance_uid as string };
  return { patientKey: String(row.patient_key) };
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : new Date(value as string).toISOString();
}
