/**
 * Rectification (GDPR art. 16) as an overlay: corrected PatientName, PatientBirthDate and PatientSex
 * are stored beside the original, with the reason, who and when; QIDO-RS and WADO-RS metadata serve
 * the corrected values (core/archive/qido-attributes.ts, retrieve-query.ts) while the stored objects
 * keep their bytes (WADO-RS instance retrieve returns them as received). Every correction is kept.
 */
import type { SqlClient, SqlQueryable } from '../archive/sql-client.js';
import { LightboxError } from '../errors.js';

export interface RectifiedAttributes {
  PatientName?: string;
  PatientBirthDate?: string;
  PatientSex?: string;
}

export interface RectificationEntry {
  rectificationId: string;
  attributes: RectifiedAttributes;
  reason: string;
  rectifiedBy: string;
  rectifiedAt: string;
}

/** PS3.5 §6.2: PN ≤ 64 characters per component group, DA YYYYMMDD, CS M/F/O (PS3.3 §C.7.1.1). */
export function validateRectification(attributes: unknown, reason: unknown): RectifiedAttributes {
  const bad = (message: string) => new LightboxError('BadRequest', message);
  if (typeof attributes !== 'object' || attributes === null) throw bad('attributes: an object');
  const a = attributes as Record<string, unknown>;
  const known = ['PatientName', 'PatientBirthDate', 'PatientSex'];
  if (Object.keys(a).some((k) => !known.includes(k)))
    throw bad(`attributes: only ${known.join(', ')}`);
  if (Object.keys(a).length === 0) throw bad('attributes: at least one');
  const out: RectifiedAttributes = {};
  if (a.PatientName !== undefined) {
    const v = a.PatientName;
    if (
      typeof v !== 'string' ||
      v.split('=').some((g) => g.length > 64) ||
      /[\\\x00-\x1f]/.test(v)
    ) {
      throw bad('PatientName: a PN value (≤ 64 characters per component group, no backslash)');
    }
    out.PatientName = v;
  }
  if (a.PatientBirthDate !== undefined) {
    const v = a.PatientBirthDate;
    if (typeof v !== 'string' || !(v === '' || isDate(v))) throw bad('PatientBirthDate: YYYYMMDD');
    out.PatientBirthDate = v;
  }
  if (a.PatientSex !== undefined) {
    const v = a.PatientSex;
    if (typeof v !== 'string' || !['M', 'F', 'O', ''].includes(v))
      throw bad('PatientSex: M, F, O or empty');
    out.PatientSex = v;
  }
  if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > 1024) {
    throw bad('reason: 1 to 1024 characters');
  }
  return out;
}

function isDate(v: string): boolean {
  if (!/^\d{8}$/.test(v)) return false;
  const d = new Date(`${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10).replaceAll('-', '') === v;
}

/** Records a correction and updates the overlay, in one transaction. */
export async function rectifyRecord(
  sql: SqlClient,
  patientKey: string,
  attributes: RectifiedAttributes,
  reason: string,
  rectifiedBy: string,
): Promise<RectificationEntry> {
  return sql.transaction(async (tx) => {
    const [row] = await tx.query(
      `INSERT INTO patient_rectification (patient_key, patient_name, patient_birth_date, patient_sex,
                                          reason, rectified_by)
       SELECT patient_key, $2, $3, $4, $5, $6 FROM patient WHERE patient_key = $1::bigint
       RETURNING rectification_id::text AS id, rectified_at`,
      [
        patientKey,
        attributes.PatientName ?? null,
        attributes.PatientBirthDate ?? null,
        attributes.PatientSex ?? null,
        reason,
        rectifiedBy,
      ],
    );
    if (!row) throw new LightboxError('NotFound', 'no such patient record');
    await tx.query(
      `INSERT INTO patient_overlay AS o (patient_key, patient_name, patient_birth_date, patient_sex)
       VALUES ($1::bigint, $2, $3, $4)
       ON CONFLICT (patient_key) DO UPDATE SET
         patient_name = COALESCE(EXCLUDED.patient_name, o.patient_name),
         patient_birth_date = COALESCE(EXCLUDED.patient_birth_date, o.patient_birth_date),
         patient_sex = COALESCE(EXCLUDED.patient_sex, o.patient_sex)`,
      [
        patientKey,
        attributes.PatientName ?? null,
        attributes.PatientBirthDate ?? null,
        attributes.PatientSex ?? null,
      ],
    );
    return {
      rectificationId: row.id as string,
      attributes,
      reason,
      rectifiedBy,
      rectifiedAt: new Date(row.rectified_at as string).toISOString(),
    };
  });
}

/** Every correction of a record, oldest first. */
export async function rectificationHistory(
  sql: SqlQueryable,
  patientKey: string,
): Promise<RectificationEntry[]> {
  const rows = await sql.query(
    `SELECT rectification_id::text AS id, patient_name, patient_birth_date, patient_sex, reason,
            rectified_by, rectified_at
     FROM patient_rectification WHERE patient_key = $1::bigint ORDER BY rectification_id`,
    [patientKey],
  );
  return rows.map((r) => ({
    rectificationId: r.id as string,
    attributes: Object.fromEntries(
      [
        ['PatientName', r.patient_name],
        ['PatientBirthDate', r.patient_birth_date],
        ['PatientSex', r.patient_sex],
      ].filter(([, v]) => v !== null),
    ) as RectifiedAttributes,
    reason: r.reason as string,
    rectifiedBy: r.rectified_by as string,
    rectifiedAt: new Date(r.rectified_at as string).toISOString(),
  }));
}

/**
 * The overlay as DICOM JSON (PS3.18 §F.2) in SQL, for `metadata || <this>` on an instance row whose
 * study is `studyColumn`; '{}' when nothing was corrected.
 */
export function overlayJsonSql(studyColumn: string): string {
  const value = (column: string, vr: string, json: string) =>
    `CASE WHEN o.${column} IS NULL THEN NULL WHEN o.${column} = '' THEN jsonb_build_object('vr', '${vr}')
          ELSE jsonb_build_object('vr', '${vr}', 'Value', jsonb_build_array(${json})) END`;
  return `COALESCE((SELECT jsonb_strip_nulls(jsonb_build_object(
      '00100010', ${value('patient_name', 'PN', `jsonb_build_object('Alphabetic', o.patient_name)`)},
      '00100030', ${value('patient_birth_date', 'DA', 'o.patient_birth_date')},
      '00100040', ${value('patient_sex', 'CS', 'o.patient_sex')}))
    FROM study os JOIN patient_overlay o ON o.patient_key = os.patient_key
    WHERE os.study_instance_uid = ${studyColumn}), '{}'::jsonb)`;
}

/** A version of the overlay of an instance's study, for entity tags: '' when none. */
export function overlayVersionSql(studyColumn: string): string {
  return `COALESCE((SELECT max(r.rectification_id)::text FROM study rs
    JOIN patient_rectification r ON r.patient_key = rs.patient_key
    WHERE rs.study_instance_uid = ${studyColumn}), '')`;
}
