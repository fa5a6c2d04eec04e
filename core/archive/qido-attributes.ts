/**
 * The attributes QIDO-RS answers from the index (PS3.18 §10.6.1.2 and §10.6.3.3): where each lives in
 * the schema, how it matches (PS3.4 §C.2.2.2) and what each level returns by default. Patient
 * attributes belong to the study level here, as in the Study Root model QIDO-RS uses.
 */

export type QidoLevel = 'study' | 'series' | 'instance';

/** How values of an attribute match: by its VR (PS3.4 §C.2.2.2). */
export type MatchKind = 'text' | 'person' | 'date' | 'time' | 'uid' | 'code' | 'integer';

export interface QidoAttribute {
  keyword: string;
  /** "GGGGEEEE". */
  tag: string;
  vr: string;
  level: QidoLevel;
  match: MatchKind;
  /** SQL expression over the aliases p (patient), s (study), se (series), i (instance). */
  sql: string;
  /** Computed from other rows (PS3.18 §10.6.3.3.1): not matched like a column. */
  computed?: boolean;
}

const MATCH_BY_VR: Readonly<Record<string, MatchKind>> = {
  PN: 'person',
  DA: 'date',
  TM: 'time',
  UI: 'uid',
  CS: 'code',
  IS: 'integer',
  US: 'integer',
};

function attribute(
  keyword: string,
  tag: string,
  vr: string,
  level: QidoLevel,
  sql: string,
  computed = false,
): QidoAttribute {
  const match = MATCH_BY_VR[vr] ?? 'text';
  return { keyword, tag, vr, level, match, sql, computed };
}

/**
 * Computed attributes (PS3.18 §10.6.3.3.1) are columns that triggers keep exact
 * (migrations/0006_qido_computed_attributes.sql): a search reads them like any other attribute.
 */

export const QIDO_ATTRIBUTES: readonly QidoAttribute[] = [
  // Rectified values (core/data-rights/rectification.ts) win over the received ones.
  attribute('PatientName', '00100010', 'PN', 'study', 'COALESCE(po.patient_name, p.patient_name)'),
  attribute('PatientID', '00100020', 'LO', 'study', 'p.patient_id'),
  attribute('IssuerOfPatientID', '00100021', 'LO', 'study', 'p.issuer_of_patient_id'),
  attribute(
    'PatientBirthDate',
    '00100030',
    'DA',
    'study',
    'COALESCE(po.patient_birth_date, p.patient_birth_date)',
  ),
  attribute('PatientSex', '00100040', 'CS', 'study', 'COALESCE(po.patient_sex, p.patient_sex)'),
  attribute('StudyInstanceUID', '0020000D', 'UI', 'study', 's.study_instance_uid'),
  attribute('StudyDate', '00080020', 'DA', 'study', 's.study_date'),
  attribute('StudyTime', '00080030', 'TM', 'study', 's.study_time'),
  attribute('AccessionNumber', '00080050', 'SH', 'study', 's.accession_number'),
  attribute('StudyID', '00200010', 'SH', 'study', 's.study_id'),
  attribute('StudyDescription', '00081030', 'LO', 'study', 's.study_description'),
  attribute('ReferringPhysicianName', '00080090', 'PN', 'study', 's.referring_physician_name'),
  attribute('ModalitiesInStudy', '00080061', 'CS', 'study', 's.modalities_in_study', true),
  attribute(
    'NumberOfStudyRelatedSeries',
    '00201206',
    'IS',
    'study',
    's.number_of_study_related_series',
    true,
  ),
  attribute(
    'NumberOfStudyRelatedInstances',
    '00201208',
    'IS',
    'study',
    's.number_of_study_related_instances',
    true,
  ),
  attribute('SeriesInstanceUID', '0020000E', 'UI', 'series', 'se.series_instance_uid'),
  attribute('Modality', '00080060', 'CS', 'series', 'se.modality'),
  attribute('SeriesNumber', '00200011', 'IS', 'series', 'se.series_number'),
  attribute('SeriesDescription', '0008103E', 'LO', 'series', 'se.series_description'),
  attribute(
    'NumberOfSeriesRelatedInstances',
    '00201209',
    'IS',
    'series',
    'se.number_of_series_related_instances',
    true,
  ),
  attribute('SOPInstanceUID', '00080018', 'UI', 'instance', 'i.sop_instance_uid'),
  attribute('SOPClassUID', '00080016', 'UI', 'instance', 'i.sop_class_uid'),
  attribute('InstanceNumber', '00200013', 'IS', 'instance', 'i.instance_number'),
  attribute('Rows', '00280010', 'US', 'instance', 'i."rows"'),
  attribute('Columns', '00280011', 'US', 'instance', 'i."columns"'),
  attribute('NumberOfFrames', '00280008', 'IS', 'instance', 'i.number_of_frames'),
  // Kept from the header by a trigger (migrations/0009_instance_bits_allocated.sql).
  attribute('BitsAllocated', '00280100', 'US', 'instance', 'i.bits_allocated'),
];

const BY_TAG = new Map(QIDO_ATTRIBUTES.map((a) => [a.tag, a]));

/** The indexed (or computed) attribute with this tag, if Lightbox indexes it. */
export function indexedAttribute(tag: string): QidoAttribute | undefined {
  return BY_TAG.get(tag);
}

const LEVELS: readonly QidoLevel[] = ['study', 'series', 'instance'];

/** Whether an attribute of `attributeLevel` can be matched or returned at `level` (same or above). */
export function isAtOrAbove(attributeLevel: QidoLevel, level: QidoLevel): boolean {
  return LEVELS.indexOf(attributeLevel) <= LEVELS.indexOf(level);
}

/**
 * Indexed attributes each level returns by default (PS3.18 Tables 10.6.3-3, -4, -5). Attributes
 * that the index does not hold (PerformedProcedureStepStartDate…) come from instance metadata: see
 * DEFAULT_METADATA_TAGS. RetrieveURL and InstanceAvailability are added by the caller.
 */
export const DEFAULT_ATTRIBUTES: Readonly<Record<QidoLevel, readonly string[]>> = {
  study: [
    'StudyDate',
    'StudyTime',
    'AccessionNumber',
    'ModalitiesInStudy',
    'ReferringPhysicianName',
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyInstanceUID',
    'StudyID',
    'StudyDescription',
    'NumberOfStudyRelatedSeries',
    'NumberOfStudyRelatedInstances',
  ],
  series: [
    'Modality',
    'SeriesDescription',
    'SeriesInstanceUID',
    'SeriesNumber',
    'NumberOfSeriesRelatedInstances',
  ],
  instance: [
    'SOPClassUID',
    'SOPInstanceUID',
    'InstanceNumber',
    'Rows',
    'Columns',
    'BitsAllocated',
    'NumberOfFrames',
  ],
};

/**
 * Default attributes that only the instance metadata holds: PerformedProcedureStepStartDate/Time
 * (series, PS3.18 Table 10.6.3-4). BitsAllocated (instance, Table 10.6.3-5) is a column, so a
 * default instance search reads no header.
 */
export const DEFAULT_METADATA_TAGS: Readonly<Record<QidoLevel, readonly string[]>> = {
  study: [],
  series: ['00400244', '00400245'],
  instance: [],
};

export function attributesByKeyword(keywords: readonly string[]): QidoAttribute[] {
  return keywords.map((k) => QIDO_ATTRIBUTES.find((a) => a.keyword === k)!);
}
