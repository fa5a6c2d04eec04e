/**
 * The stored instances of one patient record, with the study and series keys a DICOMDIR needs, in
 * study, series and instance order: one statement over the index, a few hundred bytes per instance
 * (never the objects' bytes).
 */
import { numberOrNull, toStoredInstance } from '../archive/retrieve-query.js';
import type { SqlQueryable, SqlRow } from '../archive/sql-client.js';

export interface PatientInstance {
  StudyInstanceUID: string;
  StudyDate: string;
  StudyTime: string;
  StudyDescription: string;
  StudyID: string;
  AccessionNumber: string;
  SeriesInstanceUID: string;
  Modality: string;
  SeriesNumber: number | null;
  SOPInstanceUID: string;
  SOPClassUID: string;
  TransferSyntaxUID: string;
  InstanceNumber: number | null;
  objectKey: string;
  size: number;
  sha256: string;
}

export interface PatientRecord {
  patientKey: string;
  IssuerOfPatientID: string;
  PatientID: string;
  PatientName: string;
}

const RECORD = `SELECT patient_key::text AS patient_key, issuer_of_patient_id, patient_id, patient_name
  FROM patient WHERE patient_key = $1::bigint`;

const INSTANCES = `
  SELECT s.study_instance_uid, s.study_date, s.study_time, s.study_description, s.study_id,
         s.accession_number, se.series_instance_uid, se.modality, se.series_number,
         i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid, i.instance_number,
         i.object_key, i.size, i.sha256
  FROM study s
  JOIN series se ON se.study_instance_uid = s.study_instance_uid
  JOIN instance i ON i.series_instance_uid = se.series_instance_uid AND i.state = 'stored'
  WHERE s.patient_key = $1::bigint
  ORDER BY s.study_date, s.study_time, s.study_instance_uid, se.series_number NULLS LAST,
           se.series_instance_uid, i.instance_number NULLS LAST, i.sop_instance_uid`;

/** A patient key is the text of a positive bigint; anything else names no record. */
export function isPatientKey(value: unknown): value is string {
  return typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value);
}

export async function findPatientRecord(
  sql: SqlQueryable,
  patientKey: string,
): Promise<PatientRecord | null> {
  if (!isPatientKey(patientKey)) return null;
  const [row] = await sql.query(RECORD, [patientKey]);
  return row
    ? {
        patientKey: row.patient_key as string,
        IssuerOfPatientID: row.issuer_of_patient_id as string,
        PatientID: row.patient_id as string,
        PatientName: row.patient_name as string,
      }
    : null;
}

export async function patientInstances(
  sql: SqlQueryable,
  patientKey: string,
): Promise<PatientInstance[]> {
  return (await sql.query(INSTANCES, [patientKey])).map(toPatientInstance);
}

function toPatientInstance(row: SqlRow): PatientInstance {
  return {
    ...toStoredInstance(row),
    StudyDate: row.study_date as string,
    StudyTime: row.study_time as string,
    StudyDescription: row.study_description as string,
    StudyID: row.study_id as string,
    AccessionNumber: row.accession_number as string,
    Modality: row.modality as string,
    SeriesNumber: numberOrNull(row.series_number),
    InstanceNumber: numberOrNull(row.instance_number),
  };
}
