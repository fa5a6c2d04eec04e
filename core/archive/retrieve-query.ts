/**
 * WADO-RS reads of the index (PS3.18 §10.4): the stored instances of a study, series or instance, one
 * statement each, in the order a viewer expects (series, then instance number). Lists of many rows
 * come back as one text: json (queryJsonRows), or for WADO-RS metadata, fields and rows joined by
 * separators (rowsText). Metadata comes back as the header's text (instance.
 * metadata_text, migration 0007): the viewer API fills in BulkDataURIs and writes it out without a
 * parse where it can.
 */
import { overlayJsonSql, overlayVersionSql } from '../data-rights/rectification.js';
import type { StudyScope } from '../grants/grants.js';
import { scopeCondition, type Sql } from './qido-query.js';
import type {
  RetrieveTarget,
  StoredInstance,
  StoredInstanceMetadata,
  TargetMetadata,
} from './index-store.js';
import { queryJsonRows, type SqlQueryable, type SqlRow } from './sql-client.js';

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
  if (target.SeriesInstanceUIDs !== undefined) {
    where.push(`series_instance_uid = ANY($${params.push(target.SeriesInstanceUIDs)}::text[])`);
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
  return (await queryJsonRows(sql, text, where.params)).map(toStoredInstance);
}

/**
 * The version of a target as a whole, for caches and entity tags: the number of its stored instances
 * and the sum of a 64-bit hash of each one's SOPInstanceUID and row version (xmin, which changes
 * whenever a row is written: a new instance, a header rectified in the index, an erasure), and the
 * rectification overlay of its study (core/data-rights/rectification.ts), which changes the served
 * header without touching the rows. The sum does not depend on the order of the rows, so it needs no
 * sort, and it cannot reorder the other aggregates of retrieveMetadata (an aggregate with ORDER BY
 * would: PostgreSQL presorts the input for it). NULL when nothing is stored. Every target is one
 * study, $1 of targetWhere: the overlay is looked up once per statement. Aggregates the rows of a
 * subquery `q` that has sop_instance_uid and row_version (xmin::text).
 */
const TARGET_VERSION = `count(*)::text || '/'
  || sum(hashtextextended(q.sop_instance_uid || ' ' || q.row_version, 0))::text || '/'
  || ${overlayVersionSql('$1::text')}`;

/** The target study's overlay (rectified patient attributes) as DICOM JSON; '{}' when none. */
const OVERLAY_JSON = overlayJsonSql('$1::text');

/**
 * The target's version alone (see TARGET_VERSION): one small row whatever the size of the study, so
 * a metadata request for a target already served and unchanged is this statement and no other.
 */
export async function targetVersion(
  sql: SqlQueryable,
  target: RetrieveTarget,
): Promise<string | null> {
  const where = targetWhere(target);
  const [row] = await sql.query<{ version: string | null }>(
    `SELECT ${TARGET_VERSION} AS version
     FROM (SELECT sop_instance_uid, xmin::text AS row_version FROM instance WHERE ${where.text}) q`,
    where.params,
  );
  return row?.version ?? null;
}

/**
 * Rows as one text: fields joined by U+001F, rows by U+001E. Every column so sent is a UID or a
 * number: neither can hold either separator (splitRows checks the count). Building json per row cost PGlite about twice as long (json_agg of
 * json_build_array: 1.8 ms for 286 instances, this 0.9), and PGlite decodes row by row otherwise.
 * NULL is sent as the empty text, which none of these columns holds otherwise.
 */
function rowsText(columns: readonly string[]): string {
  const fields = columns.map((c) => `COALESCE(q."${c}"::text, '')`).join(`, E'\\x1f', `);
  return `string_agg(concat(${fields}), E'\\x1e')`;
}

function splitRows(text: string | null, width: number): string[][] {
  if (text === null) return [];
  return text.split('\x1e').map((row) => {
    const fields = row.split('\x1f');
    if (fields.length !== width)
      throw new Error(`index row of ${fields.length} fields, not ${width}`);
    return fields;
  });
}

/** The columns of retrieveMetadata's statement other than the header, in the order sent. */
const METADATA_ROW = [
  'series_instance_uid',
  'sop_instance_uid',
  'transfer_syntax_uid',
  'size',
  'instance_number',
  'rows',
  'columns',
  'number_of_frames',
  'bits_allocated',
] as const;

/**
 * Every stored instance of the target with its header, and the target's version (TARGET_VERSION)
 * read in the same statement, so the two always agree. The statement does not sort: sorting the
 * rows with their headers was most of its time in PGlite (2-3x that of reading them), and more on a
 * first run, before V8 optimises PGlite's code; byOrder does it here on the small columns.
 */
export async function retrieveMetadata(
  sql: SqlQueryable,
  target: RetrieveTarget,
  options: { background?: boolean } = {},
): Promise<TargetMetadata> {
  const where = targetWhere(target);
  // Rectified patient attributes (core/data-rights/rectification.ts) replace the received ones.
  const text = `SELECT ${METADATA_ROW.map((c) => `"${c}"`).join(', ')},
    xmin::text AS row_version,
    CASE WHEN ${OVERLAY_JSON} = '{}'::jsonb THEN COALESCE(metadata_text, metadata::text)
         ELSE (metadata || ${OVERLAY_JSON})::text END AS metadata
    FROM instance WHERE ${where.text}`;
  // One row back: the small columns as one text (rowsText), the headers as one text joined by
  // U+001E, which JSON text never holds unescaped; both aggregates see the rows in the same order.
  // Headers inside json_agg would be escaped as JSON strings (2-3x the time of reading them), and
  // row by row PGlite decodes every value.
  const [result] = await sql.query<{
    rows: string | null;
    metadata: string | null;
    version: string | null;
  }>(
    `SELECT ${rowsText(METADATA_ROW)} AS rows,
            string_agg(COALESCE(q.metadata, '{}'), E'\\x1e') AS metadata,
            ${TARGET_VERSION} AS version
     FROM (${text}) q`,
    where.params,
    { background: options.background },
  );
  if (!result?.rows || result.metadata === null || result.version === null) {
    return { version: null, instances: [] };
  }
  const rows = splitRows(result.rows, METADATA_ROW.length);
  const headers = result.metadata.split('\x1e');
  const instances = rows.map(
    ([series, sop, ts, size, number, rows, columns, frames, bits], i): StoredInstanceMetadata => ({
      StudyInstanceUID: target.StudyInstanceUID,
      SeriesInstanceUID: series!,
      SOPInstanceUID: sop!,
      TransferSyntaxUID: ts!,
      size: Number(size),
      metadata: headers[i]!,
      InstanceNumber: numberOrEmpty(number),
      Rows: numberOrEmpty(rows),
      Columns: numberOrEmpty(columns),
      NumberOfFrames: numberOrEmpty(frames),
      BitsAllocated: numberOrEmpty(bits),
    }),
  );
  return { version: result.version, instances: instances.sort(byOrder) };
}

/** A number column of rowsText: '' is NULL. */
function numberOrEmpty(value: string | undefined): number | null {
  return value === '' ? null : numberOrNull(value);
}

/**
 * The order of ORDER (series, then instance number with the unnumbered last, then SOPInstanceUID),
 * comparing UIDs by code unit: UIDs hold only digits and dots.
 */
function byOrder(a: StoredInstanceMetadata, b: StoredInstanceMetadata): number {
  const compare = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return (
    compare(a.SeriesInstanceUID, b.SeriesInstanceUID) ||
    (a.InstanceNumber ?? Infinity) - (b.InstanceNumber ?? Infinity) ||
    compare(a.SOPInstanceUID, b.SOPInstanceUID)
  );
}

/** A row of the instance table as a StoredInstance (bigint size: a string from pg, a number from PGlite). */
export function toStoredInstance(row: SqlRow): StoredInstance {
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

export function numberOrNull(value: unknown): number | null {
  const n = value === null || value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * What a C-MOVE or C-GET identifier names (PS3.4 §C.4.2.1.4): the unique keys of its level, each a
 * single UID or a list; PatientID only at the PATIENT level.
 */
export interface RetrieveKeys {
  PatientID?: string;
  StudyInstanceUIDs?: readonly string[];
  SeriesInstanceUIDs?: readonly string[];
  SOPInstanceUIDs?: readonly string[];
}

/**
 * The stored instances a C-MOVE/C-GET sends, restricted to the principal's scope in SQL, in series
 * and instance number order. Keys left undefined do not constrain; at least one must be given.
 */
export async function findInstancesToRetrieve(
  sql: SqlQueryable,
  keys: RetrieveKeys,
  scope: StudyScope,
): Promise<StoredInstance[]> {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = [`i.state = 'stored'`];
  const any = (column: string, values: readonly string[] | undefined) => {
    if (values !== undefined) where.push(`${column} = ANY(${param(values)}::text[])`);
  };
  if (keys.PatientID !== undefined) where.push(`p.patient_id = ${param(keys.PatientID)}`);
  any('i.study_instance_uid', keys.StudyInstanceUIDs);
  any('i.series_instance_uid', keys.SeriesInstanceUIDs);
  any('i.sop_instance_uid', keys.SOPInstanceUIDs);
  if (where.length === 1) return [];
  const scoped = scopeCondition(scope, 'i.study_instance_uid', param);
  if (scoped) where.push(scoped);
  const text = `SELECT ${COLUMNS.replace(/(\w+)/g, 'i.$1')} FROM instance i
    JOIN study s ON s.study_instance_uid = i.study_instance_uid
    JOIN patient p ON p.patient_key = s.patient_key
    WHERE ${where.join(' AND ')}
    ORDER BY i.study_instance_uid, i.series_instance_uid, i.instance_number NULLS LAST,
      i.sop_instance_uid`;
  return (await queryJsonRows(sql, text, params)).map(toStoredInstance);
}
