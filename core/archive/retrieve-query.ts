/**
 * WADO-RS reads of the index (PS3.18 §10.4): the stored instances of a study, series or instance, one
 * statement each, in the order a viewer expects (series, then instance number). Metadata comes back as
 * jsonb text: the viewer API fills in BulkDataURIs and writes it out without a parse where it can.
 */
import type { RetrieveTarget, StoredInstance, StoredInstanceMetadata } from './index-store.js';
import { overlayJsonSql, overlayVersionSql } from '../data-rights/rectification.js';
import type { Sql } from './qido-query.js';
import type { SqlQueryable, SqlRow } from './sql-client.js';

const COLUMNS = `study_instance_uid, series_instance_uid, sop_instance_uid, sop_class_uid,
  transfer_syntax_uid, object_key, size, sha256`;

/** `instance_study_instance_uid` serves every variant; series and SOP UIDs only narrow it. */
function buildRetrieveSql(target: RetrieveTarget, withMetadata: boolean): Sql {
  const params: unknown[] = [target.StudyInstanceUID];
  const where = [`state = 'stored'`, 'study_instance_uid = $1'];
  if (target.SeriesInstanceUID !== undefined) {
    where.push(`series_instance_uid = $${params.push(target.SeriesInstanceUID)}`);
  }
  if (target.SeriesInstanceUIDs !== undefined) {
    where.push(`series_instance_uid = ANY($${params.push(target.SeriesInstanceUIDs)}::text[])`);
  }
  if (target.SOPInstanceUID !== undefined) {
    where.push(`sop_instance_uid = $${params.push(target.SOPInstanceUID)}`);
  }
  // Rectified patient attributes (core/data-rights/rectification.ts) replace the received ones.
  const metadata = `, (metadata || ${overlayJsonSql('instance.study_instance_uid')})::text AS metadata,
    "rows", "columns", number_of_frames,
    metadata -> '00280100' -> 'Value' ->> 0 AS bits_allocated,
    ${overlayVersionSql('instance.study_instance_uid')} AS overlay_version`;
  const text = `SELECT ${COLUMNS}${withMetadata ? metadata : ''}
    FROM instance WHERE ${where.join(' AND ')}
    ORDER BY series_instance_uid, instance_number NULLS LAST, sop_instance_uid`;
  return { text, params };
}

export async function findStoredInstances(
  sql: SqlQueryable,
  target: RetrieveTarget,
): Promise<StoredInstance[]> {
  const { text, params } = buildRetrieveSql(target, false);
  return (await sql.query(text, params)).map(toStoredInstance);
}

export async function retrieveMetadata(
  sql: SqlQueryable,
  target: RetrieveTarget,
): Promise<StoredInstanceMetadata[]> {
  const { text, params } = buildRetrieveSql(target, true);
  return (await sql.query(text, params)).map((row) => ({
    ...toStoredInstance(row),
    metadata: row.metadata as string,
    Rows: numberOrNull(row.rows),
    Columns: numberOrNull(row.columns),
    NumberOfFrames: numberOrNull(row.number_of_frames),
    BitsAllocated: numberOrNull(row.bits_allocated),
    overlayVersion: row.overlay_version as string,
  }));
}

function toStoredInstance(row: SqlRow): StoredInstance {
  return {
    StudyInstanceUID: row.study_instance_uid as string,
    SeriesInstanceUID: row.series_instance_uid as string,
    SOPInstanceUID: row.sop_instance_uid as string,
    SOPClassUID: row.sop_class_uid as string,
    TransferSyntaxUID: row.transfer_syntax_uid as string,
    objectKey: row.object_key as string,
    size: Number(row.size), // bigint: a string from pg, a number from PGlite
    sha256: row.sha256 as string,
  };
}

function numberOrNull(value: unknown): number | null {
  const n = value === null || value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : null;
}
