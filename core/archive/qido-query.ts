/**
 * QIDO-RS in SQL (PS3.18 §10.6): one parameterised statement per search, the same on PostgreSQL and
 * PGlite, answered from the index alone. Matching follows PS3.4 §C.2.2.2: single value (with * and ?
 * wildcards), UID and code lists, date and time ranges, universal; PN matches case-insensitively
 * and, with fuzzymatching, by the start of any name component. Computed attributes (PS3.18
 * §10.6.3.3.1) are correlated subqueries over series and instance.
 */
import { LightboxError } from '../errors.js';
import type { StudyScope } from '../grants/scope.js';
import { scopeSql } from '../grants/scope-sql.js';
import type { DicomJson, DicomJsonAttribute } from './index-store.js';
import type { QidoAttribute, QidoLevel } from './qido-attributes.js';
import { queryJsonRows, type SqlQueryable } from './sql-client.js';

export type Matcher =
  /** One value; `*` and `?` are wildcards (PS3.4 §C.2.2.2.4) except for UIDs, dates and times. */
  | { kind: 'single'; value: string }
  /** Any of these values (UID list matching, PS3.4 §C.2.2.2.2; code lists). */
  | { kind: 'list'; values: string[] }
  /** Inclusive range; an absent bound is open (PS3.4 §C.2.2.2.5). Dates YYYYMMDD, times HHMMSS. */
  | { kind: 'range'; from?: string; to?: string };

export interface QidoMatch {
  attribute: QidoAttribute;
  matcher: Matcher;
}

export interface QidoQuery {
  level: QidoLevel;
  /** The resource the search runs in (PS3.18 §10.6.1: /studies/{study}/series…). */
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
  matches: QidoMatch[];
  /** PS3.18 §8.3.4.5. */
  fuzzymatching: boolean;
  /** Indexed and computed attributes to return. */
  attributes: QidoAttribute[];
  /** Other attributes to return ("GGGGEEEE"), from instance metadata; 'all' for the whole header. */
  metadataTags: string[] | 'all';
  limit: number;
  offset: number;
  /** The studies the principal may see (core/grants). */
  scope: StudyScope;
}

export interface QidoResult {
  matches: DicomJson[];
  /** More matches exist beyond `limit` (PS3.18 §8.3.4.4: the caller adds a Warning). */
  more: boolean;
}

export interface Sql {
  text: string;
  params: unknown[];
}

/** The rectification overlay (0003_data_rights.sql) joins every level: po.* is NULL when none. */
/** Rectified patient attributes (core/data-rights/rectification.ts), aliased `po`. */
export const OVERLAY = 'LEFT JOIN patient_overlay po ON po.patient_key = p.patient_key';

const FROM: Record<QidoLevel, string> = {
  study: `study s JOIN patient p ON p.patient_key = s.patient_key ${OVERLAY}`,
  series: `series se JOIN study s ON s.study_instance_uid = se.study_instance_uid
           JOIN patient p ON p.patient_key = s.patient_key ${OVERLAY}`,
  instance: `instance i JOIN series se ON se.series_instance_uid = i.series_instance_uid
             JOIN study s ON s.study_instance_uid = i.study_instance_uid
             JOIN patient p ON p.patient_key = s.patient_key ${OVERLAY}`,
};

const ORDER: Record<QidoLevel, string> = {
  study: 's.study_date DESC, s.study_time DESC, s.study_instance_uid',
  series: 'se.study_instance_uid, se.series_number NULLS LAST, se.series_instance_uid',
  instance: 'i.series_instance_uid, i.instance_number NULLS LAST, i.sop_instance_uid',
};

/**
 * The instance whose metadata stands for a study or series: the lowest-numbered of a series (the
 * order of instance_series_instance_uid), any one of a study (no index orders a study's instances).
 */
const SAMPLE: Record<'study' | 'series', string> = {
  study: `m.study_instance_uid = s.study_instance_uid AND m.state = 'stored' LIMIT 1`,
  series: `m.series_instance_uid = se.series_instance_uid AND m.state = 'stored'
           ORDER BY m.instance_number NULLS LAST LIMIT 1`,
};

/** Runs a search: one statement; limit + 1 rows tell whether more matches exist. */
export async function searchIndex(
  sql: SqlQueryable,
  query: QidoQuery,
  level: QidoLevel,
): Promise<QidoResult> {
  if (query.level !== level) throw new LightboxError('Internal', 'QIDO query of another level');
  const { text, params } = buildQidoSql(query);
  // Instances are where the data is skewed (a CT series of 143 instances, most series one): their
  // searches are planned for their values. Study and series searches keep their prepared plans:
  // planning each one cost about 1 ms of PGlite for no better plan.
  const rows = await queryJsonRows(sql, text, params, { planForValues: level === 'instance' });
  return {
    matches: rows.slice(0, query.limit).map((row) => rowToDicomJson(row, query)),
    more: rows.length > query.limit,
  };
}

/** The statement for a search: limit + 1 rows, so that the caller can tell whether more exist. */
export function buildQidoSql(query: QidoQuery): Sql {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const columns = query.attributes.map((a) => `${a.sql} AS "${a.tag}"`);
  const extra = metadataColumn(query, param);
  if (extra) columns.push(`${extra} AS extra`);
  const where = conditions(query, param);
  const text = `SELECT ${columns.join(', ')} FROM ${FROM[query.level]}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${ORDER[query.level]}
    LIMIT ${count(query.limit + 1)} OFFSET ${count(query.offset)}`;
  return { text, params };
}

/**
 * LIMIT and OFFSET are written into the text, not bound: the index prepares a statement it sees
 * again, and PostgreSQL then keeps a generic plan only when it costs no more than the custom ones;
 * with LIMIT a parameter, the generic plan is costed for an unknown (large) count and never wins, so
 * every search was planned anew (about 0.5 ms of PGlite for OHIF's study list).
 */
function count(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LightboxError('Internal', 'QIDO limit/offset is not a count');
  }
  return String(value);
}

function metadataColumn(query: QidoQuery, param: (v: unknown) => string): string | undefined {
  const { metadataTags, level } = query;
  if (metadataTags === 'all') {
    // The whole header only makes sense for one instance; studies and series return what the index has.
    return level === 'instance' ? 'i.metadata' : undefined;
  }
  if (metadataTags.length === 0) return undefined;
  const tags = param(metadataTags);
  const pick = (alias: string) =>
    `(SELECT jsonb_object_agg(k, ${alias}.metadata -> k) FROM unnest(${tags}::text[]) AS k
      WHERE ${alias}.metadata -> k IS NOT NULL)`;
  if (level === 'instance') return pick('i');
  return `(SELECT ${pick('m')} FROM instance m WHERE ${SAMPLE[level]})`;
}

function conditions(query: QidoQuery, param: (v: unknown) => string): string[] {
  const where: string[] = [];
  if (query.level === 'instance') where.push(`i.state = 'stored'`);
  if (query.StudyInstanceUID) where.push(`s.study_instance_uid = ${param(query.StudyInstanceUID)}`);
  if (query.SeriesInstanceUID) {
    where.push(`se.series_instance_uid = ${param(query.SeriesInstanceUID)}`);
  }
  // Default deny before LIMIT/OFFSET: a page counts only what the principal may see.
  const scope = scopeSql(query.scope, param, query.level !== 'study');
  if (scope) where.push(scope);
  for (const { attribute, matcher } of query.matches) {
    const condition =
      attribute.keyword === 'ModalitiesInStudy'
        ? modalitiesInStudySql(attribute, matcher, param)
        : matchSql(attribute.sql, attribute, matcher, query.fuzzymatching, param);
    if (condition) where.push(condition);
  }
  return where;
}

/**
 * The principal's study scope (core/grants) as a condition on a StudyInstanceUID column, or undefined
 * when the scope is every study: for statements (DIMSE Query/Retrieve, storage commitment) whose
 * aliases are not core/grants' `s`/`se`. Study granularity: the DIMSE principals (archive reader,
 * organisation) have no series-level grants.
 */
export function scopeCondition(
  scope: StudyScope,
  studyInstanceUIDColumn: string,
  param: (v: unknown) => string,
): string | undefined {
  const condition = scopeSql(scope, param, false);
  if (condition === undefined) return undefined;
  return `${studyInstanceUIDColumn} IN (SELECT s.study_instance_uid FROM study s WHERE ${condition})`;
}

/**
 * ModalitiesInStudy matches when any series of the study matches: values and lists against the
 * study's modalities_in_study array (no probe of the series table per study), wildcards against the
 * series themselves.
 */
function modalitiesInStudySql(
  attribute: QidoAttribute,
  matcher: Matcher,
  param: (v: unknown) => string,
): string | undefined {
  const values =
    matcher.kind === 'list'
      ? matcher.values
      : matcher.kind === 'single' && matcher.value !== '' && !/[*?]/.test(matcher.value)
        ? [matcher.value]
        : undefined;
  if (values) return `s.modalities_in_study && ${param(values)}::text[]`;
  const match = matchSql('x.modality', attribute, matcher, false, param);
  return match
    ? `EXISTS (SELECT 1 FROM series x WHERE x.study_instance_uid = s.study_instance_uid AND ${match})`
    : undefined;
}

/** One match as SQL, or undefined for a universal match. */
export function matchSql(
  column: string,
  attribute: QidoAttribute,
  matcher: Matcher,
  fuzzy: boolean,
  param: (v: unknown) => string,
): string | undefined {
  const person = attribute.match === 'person';
  const integer = attribute.match === 'integer';
  if (matcher.kind === 'list') {
    const cast = integer ? 'integer[]' : 'text[]';
    return `${column} = ANY(${param(integer ? matcher.values.map(Number) : matcher.values)}::${cast})`;
  }
  if (matcher.kind === 'range') {
    const parts = [`${column} <> ''`];
    if (matcher.from) parts.push(`${column} >= ${param(matcher.from)}`);
    if (matcher.to) parts.push(`${column} <= ${param(upperBound(attribute, matcher.to))}`);
    return `(${parts.join(' AND ')})`;
  }
  const { value } = matcher;
  if (integer) return `${column} = ${param(Number(value))}`;
  const wildcards =
    attribute.match !== 'uid' && attribute.match !== 'date' && attribute.match !== 'time';
  if (wildcards && /^\*+$/.test(value)) return undefined;
  const target = person ? `lower(${column})` : column;
  if (person && fuzzy) {
    // Fuzzy (PS3.18 §8.3.4.5): the value matches the start of any name component.
    return `('^' || ${target}) LIKE ${param(`%^${likePattern(value.toLowerCase())}%`)}`;
  }
  if (wildcards && /[*?]/.test(value)) {
    const pattern = likePattern(person ? value.toLowerCase() : value);
    return `${target} LIKE ${param(pattern)}`;
  }
  return `${target} = ${param(person ? value.toLowerCase() : value)}`;
}

/** DICOM wildcards to LIKE: escape LIKE's own metacharacters, then * → % and ? → _. */
export function likePattern(value: string): string {
  return value
    .replace(/[\\%_]/g, '\\$&')
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

/**
 * A time range's upper bound covers the whole unit it names: "-1200" includes 12:00:59.999999
 * (values compare as strings, so the bound is padded to full precision).
 */
function upperBound(attribute: QidoAttribute, to: string): string {
  if (attribute.match !== 'time') return to;
  const [whole, fraction = ''] = to.split('.');
  const hhmmss = whole + '5959'.slice(Math.max(0, whole.length - 2));
  return `${hhmmss}.${fraction.padEnd(6, '9')}`;
}

/** A query's attributes in ascending tag order, sorted once per query rather than once per row. */
const SORTED = new WeakMap<readonly QidoAttribute[], QidoAttribute[]>();

function sortedAttributes(attributes: readonly QidoAttribute[]): QidoAttribute[] {
  let sorted = SORTED.get(attributes);
  if (!sorted) {
    sorted = [...attributes].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    SORTED.set(attributes, sorted);
  }
  return sorted;
}

/** A result row as DICOM JSON (PS3.18 §F.2), tags in ascending order. */
export function rowToDicomJson(
  row: Record<string, unknown>,
  query: Pick<QidoQuery, 'attributes'>,
): DicomJson {
  const out: DicomJson = {};
  const extra = row.extra as DicomJson | null | undefined;
  if (!extra) {
    for (const attribute of sortedAttributes(query.attributes))
      out[attribute.tag] = toAttribute(attribute, row[attribute.tag]);
    return out;
  }
  for (const [tag, value] of Object.entries(extra)) {
    if (value.BulkDataURI === undefined) out[tag] = value;
  }
  for (const attribute of query.attributes)
    out[attribute.tag] = toAttribute(attribute, row[attribute.tag]);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * `dataset` (tags in ascending order) with `added` merged in, still in ascending order: one pass,
 * no sort. An added tag replaces the dataset's.
 */
export function withAttributes(dataset: DicomJson, added: DicomJson): DicomJson {
  const tags = Object.keys(added).sort();
  const out: DicomJson = {};
  let k = 0;
  for (const tag in dataset) {
    while (k < tags.length && tags[k] < tag) out[tags[k]] = added[tags[k++]];
    if (k < tags.length && tags[k] === tag) out[tag] = added[tags[k++]];
    else out[tag] = dataset[tag];
  }
  while (k < tags.length) out[tags[k]] = added[tags[k++]];
  return out;
}

function toAttribute(attribute: QidoAttribute, value: unknown): DicomJsonAttribute {
  const { vr } = attribute;
  if (value === null || value === undefined || value === '') return { vr };
  if (Array.isArray(value)) return value.length > 0 ? { vr, Value: value } : { vr };
  if (attribute.match === 'person') return { vr, Value: [{ Alphabetic: value }] };
  if (attribute.match === 'integer') return { vr, Value: [Number(value)] };
  return { vr, Value: [value] };
}
