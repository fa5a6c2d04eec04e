/**
 * The archive's objects as the index records them, for the operator's tools (lightbox verify,
 * export): every stored instance, optionally of one study or one patient, and every kept conflict,
 * page by page (keyset pagination on the primary keys: a page is one indexed range scan, whatever
 * the archive's size, and nothing is held in memory but the page).
 */
import type { SqlQueryable, SqlRow } from './sql-client.js';

export interface IndexedObject {
  /** 'instance' (the archived bytes) or 'conflict' (a re-send with other bytes, kept aside). */
  kind: 'instance' | 'conflict';
  SOPInstanceUID: string;
  StudyInstanceUID: string | null;
  SeriesInstanceUID: string | null;
  objectKey: string;
  size: number;
  sha256: string;
}

export interface IndexedObjectFilter {
  StudyInstanceUID?: string;
  /** PatientID (0010,0020), any issuer. */
  PatientID?: string;
  /** Also the conflicts' objects (verify); default false. */
  conflicts?: boolean;
}

const PAGE = 500;

export async function* listIndexedObjects(
  sql: SqlQueryable,
  filter: IndexedObjectFilter = {},
): AsyncIterable<IndexedObject> {
  const where = [`i.state = 'stored'`, 'i.sop_instance_uid > $1'];
  const params: unknown[] = [''];
  if (filter.StudyInstanceUID !== undefined) {
    where.push(`i.study_instance_uid = $${params.push(filter.StudyInstanceUID)}`);
  }
  if (filter.PatientID !== undefined) {
    where.push(`p.patient_id = $${params.push(filter.PatientID)}`);
  }
  const text = `SELECT i.sop_instance_uid AS cursor, i.sop_instance_uid, i.study_instance_uid,
      i.series_instance_uid, i.object_key, i.size, i.sha256
    FROM instance i
    JOIN study s ON s.study_instance_uid = i.study_instance_uid
    JOIN patient p ON p.patient_key = s.patient_key
    WHERE ${where.join(' AND ')}
    ORDER BY i.sop_instance_uid LIMIT ${PAGE}`;
  yield* pages(sql, text, params, 'instance');
  if (filter.conflicts) {
    const conflicts = `SELECT conflict_key AS cursor, sop_instance_uid, NULL AS study_instance_uid,
        NULL AS series_instance_uid, object_key, size, sha256
      FROM instance_conflict WHERE conflict_key > $1 ORDER BY conflict_key LIMIT ${PAGE}`;
    yield* pages(sql, conflicts, [0], 'conflict');
  }
}

async function* pages(
  sql: SqlQueryable,
  text: string,
  params: unknown[],
  kind: IndexedObject['kind'],
): AsyncIterable<IndexedObject> {
  let after = params[0];
  for (;;) {
    const rows = await sql.query(text, [after, ...params.slice(1)]);
    for (const row of rows) yield toIndexedObject(row, kind);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].cursor;
  }
}

function toIndexedObject(row: SqlRow, kind: IndexedObject['kind']): IndexedObject {
  return {
    kind,
    SOPInstanceUID: row.sop_instance_uid as string,
    StudyInstanceUID: (row.study_instance_uid as string | null) ?? null,
    SeriesInstanceUID: (row.series_instance_uid as string | null) ?? null,
    objectKey: row.object_key as string,
    size: Number(row.size), // bigint: a string from pg, a number from PGlite
    sha256: row.sha256 as string,
  };
}
