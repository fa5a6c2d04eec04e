/**
 * The PATIENT level of the Patient Root Query/Retrieve Information Model (PS3.4 §C.6.1.1.2), which
 * QIDO-RS does not have: one statement over the patient table, with the same matching as every other
 * level (matchSql) and the principal's scope applied in SQL: a patient is visible when at least one
 * of its studies is, and its related counts count only the visible studies.
 */
import type { StudyScope } from '../grants/grants.js';
import type { DicomJson } from './index-store.js';
import { QIDO_ATTRIBUTES, type QidoAttribute } from './qido-attributes.js';
import {
  OVERLAY,
  matchSql,
  rowToDicomJson,
  scopeCondition,
  type QidoMatch,
  type Sql,
} from './qido-query.js';
import type { SqlQueryable } from './sql-client.js';

export interface PatientQuery {
  matches: QidoMatch[];
  attributes: QidoAttribute[];
  limit: number;
  offset: number;
  scope: StudyScope;
}

const VISIBLE_STUDY = 'vs';

function count(keyword: string, tag: string, join: string): QidoAttribute {
  return {
    keyword,
    tag,
    vr: 'IS',
    level: 'study',
    match: 'integer',
    computed: true,
    sql: `(SELECT count(*) FROM study ${VISIBLE_STUDY} ${join}
           WHERE ${VISIBLE_STUDY}.patient_key = p.patient_key AND $SCOPE)::integer`,
  };
}

/** The patient-level keys of the index (PS3.4 Table C.6-1); rectified values from the overlay `po`. */
const PATIENT_KEYWORDS = new Set([
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
]);

/** Patient attributes (PS3.4 Table C.6-1): the indexed ones, and the computed counts. */
export const PATIENT_ATTRIBUTES: readonly QidoAttribute[] = [
  ...QIDO_ATTRIBUTES.filter((a) => PATIENT_KEYWORDS.has(a.keyword)),
  count('NumberOfPatientRelatedStudies', '00201200', ''),
  count(
    'NumberOfPatientRelatedSeries',
    '00201202',
    `JOIN series x ON x.study_instance_uid = ${VISIBLE_STUDY}.study_instance_uid`,
  ),
  count(
    'NumberOfPatientRelatedInstances',
    '00201204',
    `JOIN instance x ON x.study_instance_uid = ${VISIBLE_STUDY}.study_instance_uid`,
  ),
];

export function buildPatientSql(query: PatientQuery): Sql {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const visible =
    scopeCondition(query.scope, `${VISIBLE_STUDY}.study_instance_uid`, param) ?? 'true';
  const columns = query.attributes.map(
    (a) => `${a.sql.replace('$SCOPE', () => visible)} AS "${a.tag}"`,
  );
  const where = [
    `EXISTS (SELECT 1 FROM study ${VISIBLE_STUDY} WHERE ${VISIBLE_STUDY}.patient_key = p.patient_key
             AND ${visible})`,
  ];
  for (const { attribute, matcher } of query.matches) {
    const condition = matchSql(attribute.sql, attribute, matcher, false, param);
    if (condition) where.push(condition);
  }
  const text = `SELECT ${columns.join(', ')} FROM patient p ${OVERLAY} WHERE ${where.join(' AND ')}
    ORDER BY p.patient_id, p.issuer_of_patient_id
    LIMIT ${param(query.limit + 1)} OFFSET ${param(query.offset)}`;
  return { text, params };
}

export async function searchForPatients(
  sql: SqlQueryable,
  query: PatientQuery,
): Promise<{ matches: DicomJson[]; more: boolean }> {
  const { text, params } = buildPatientSql(query);
  const rows = await sql.query(text, params);
  return {
    matches: rows.slice(0, query.limit).map((row) => rowToDicomJson(row, query)),
    more: rows.length > query.limit,
  };
}
