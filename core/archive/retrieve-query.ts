/**
 * WADO-RS reads of the index (PS3.18 §10.4): the stored instances of a study, series or instance, one
 * statement each, in the order a viewer expects (series, then instance number). Metadata comes back as
 * jsonb text: the viewer API fills in BulkDataURIs and writes it out without a parse where it can.
 */
import type {
  InstanceVersion,
  RetrieveTarget,
  StoredInstance,
  StoredInstanceMetadata,
} from './index-store.js';
import type { Sql } from './qido-query.js';
import type { SqlQueryable, SqlRow } from './sql-client.js';

const COLUMNS = `study_instance_uid, series_instance_uid, sop_instance_uid, sop_class_uid,
  transfer_syntax_uid, object_key, size, sha256`;

const ORDER = 'ORDER BY series_instance_uid, instance_number NULLS LAST, sop_instance_uid';

/** The WHERE clause of a target; `instance_study_instance_uid` serves every variant. */
function targetWhere(target: RetrieveTarget, only?: string[]): Sql {
  const params: unknown[] = [target.StudyInstanceUID];
  const where = [`state = 'stored'`, 'study_instance_uid = $1'];
  if (target.SeriesInstanceUID !== undefined) {
    where.push(`series_instance_uid = $${params.push(target.SeriesInstanceUID)}`);
  }
  if (target.SOPInstanceUID !== undefined) {
    where.push(`sop_instance_uid = $${params.push(target.SOPInstanceUID)}`);
  }
  if (only !== undefined) where.push(`sop_instance_uid = ANY($${params.push(only)}::text[])`);
  return { text: where.join(' AND '), params };
}

export async function findStoredInstances(
  sql: SqlQueryable,
  target: RetrieveTarget,
): Promise<StoredInstance[]> {
  const where = targetWhere(target);
  const text = `SELECT ${COLUMNS} FROM instance WHERE ${where.text} ${ORDER}`;
  return (await sql.query(text, where.params)).map(toStoredInstance);
}

/**
 * Versions only: no jsonb is read, so this stays cheap for a study of thousands of instances (the
 * header is detoasted and printed only for the instances a metadata cache misses).
 */
export async function instanceVersions(
  sql: SqlQueryable,
  target: RetrieveTarget,
): Promise<InstanceVersion[]> {
  const where = targetWhere(target);
  const text = `SELECT sop_instance_uid, sha256, xmin::text AS version
    FROM instance WHERE ${where.text} ${ORDER}`;
  return (await sql.query(text, where.params)).map((row) => ({
    SOPInstanceUID: row.sop_instance_uid as string,
    sha256: row.sha256 as string,
    version: row.version as string,
  }));
}

export async function retrieveMetadata(
  sql: SqlQueryable,
  target: RetrieveTarget,
  SOPInstanceUIDs?: string[],
): Promise<(StoredInstanceMetadata & InstanceVersion)[]> {
  const where = targetWhere(target, SOPInstanceUIDs);
  const text = `SELECT ${COLUMNS}, xmin::text AS version, metadata::text AS metadata, "rows",
    "columns", number_of_frames, metadata -> '00280100' -> 'Value' ->> 0 AS bits_allocated
    FROM instance WHERE ${where.text} ${ORDER}`;
  return (await sql.query(text, where.params)).map((row) => ({
    ...toStoredInstance(row),
    version: row.version as string,
    metadata: row.metadata as string,
    Rows: numberOrNull(row.rows),
    Columns: numberOrNull(row.columns),
    NumberOfFrames: numberOrNull(row.number_of_frames),
    BitsAllocated: numberOrNull(row.bits_allocated),
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
