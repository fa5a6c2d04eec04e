/**
 * The attributes Lightbox indexes (patient / study / series / instance, PS3.4 §C.6.1.1 and the
 * DICOMweb QIDO-RS defaults of PS3.18 §10.6.3.3), taken from a parsed header and made safe for the
 * index: required UIDs checked (PS3.5 §9.1), strings clamped to their VR's maximum length
 * (PS3.5 Table 6.2-1), numbers as integers or null.
 */
import type { DicomJson, IndexedAttributes } from '../archive/index-store.js';
import { LightboxError } from '../errors.js';
import { Tag, type Keyword } from './keywords.js';
import type { Part10Header } from './part10-header.js';
import { MAX_VALUE_LENGTH } from './part10/vr.js';
import { assertValidUID, trimUID } from './uid.js';

type StringKeyword = {
  [K in keyof IndexedAttributes]: IndexedAttributes[K] extends string ? K : never;
}[keyof IndexedAttributes] &
  Keyword;
type NumberKeyword = Exclude<keyof IndexedAttributes, StringKeyword> & Keyword;

/** Text attributes and their VR (PS3.6), which sets their maximum length. */
const TEXT: ReadonlyArray<[StringKeyword, string]> = [
  ['PatientID', 'LO'],
  ['IssuerOfPatientID', 'LO'],
  ['PatientName', 'PN'],
  ['PatientBirthDate', 'DA'],
  ['PatientSex', 'CS'],
  ['StudyDate', 'DA'],
  ['StudyTime', 'TM'],
  ['AccessionNumber', 'SH'],
  ['StudyID', 'SH'],
  ['StudyDescription', 'LO'],
  ['ReferringPhysicianName', 'PN'],
  ['Modality', 'CS'],
  ['SeriesDescription', 'LO'],
];

const NUMBERS: readonly NumberKeyword[] = [
  'SeriesNumber',
  'InstanceNumber',
  'Rows',
  'Columns',
  'NumberOfFrames',
];

const UIDS = ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID'] as const;

/** IS and the index's integer columns: PS3.5 IS range, −2^31 … 2^31−1. */
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Reads the indexed attributes. Missing text is '', missing or non-integer numbers null, PatientName
 * and ReferringPhysicianName the Alphabetic group in DICOM form ("Family^Given").
 *
 * Throws LightboxError 'InvalidDataset' when StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID or
 * SOPClassUID is absent, 'InvalidUID' when one is not a valid UID, and 'DatasetDoesNotMatchSOPClass'
 * (PS3.4 §B.2.3, status A900) when SOPInstanceUID or SOPClassUID differs from the File Meta
 * Information's MediaStorage values. Messages name attributes, never their values.
 */
export function extractIndexedAttributes(header: Part10Header): IndexedAttributes {
  const { dataset, meta } = header;
  const uids = Object.fromEntries(UIDS.map((k) => [k, requiredUID(dataset, k)])) as Record<
    (typeof UIDS)[number],
    string
  >;
  if (uids.SOPInstanceUID !== trimUID(meta.MediaStorageSOPInstanceUID)) {
    throw new LightboxError(
      'DatasetDoesNotMatchSOPClass',
      'SOPInstanceUID differs from MediaStorageSOPInstanceUID',
    );
  }
  if (uids.SOPClassUID !== trimUID(meta.MediaStorageSOPClassUID)) {
    throw new LightboxError(
      'DatasetDoesNotMatchSOPClass',
      'SOPClassUID differs from MediaStorageSOPClassUID',
    );
  }
  const text = Object.fromEntries(TEXT.map(([k, vr]) => [k, clamp(firstText(dataset, k), vr)]));
  const numbers = Object.fromEntries(NUMBERS.map((k) => [k, firstInteger(dataset, k)]));
  return { ...text, ...numbers, ...uids } as IndexedAttributes;
}

function firstValue(dataset: DicomJson, keyword: Keyword): unknown {
  return dataset[Tag[keyword]]?.Value?.[0];
}

function requiredUID(dataset: DicomJson, keyword: Keyword): string {
  const value = firstValue(dataset, keyword);
  if (typeof value !== 'string' || trimUID(value) === '') {
    throw new LightboxError('InvalidDataset', `${keyword} is missing`);
  }
  return assertValidUID(trimUID(value), keyword);
}

function firstText(dataset: DicomJson, keyword: Keyword): string {
  const value = firstValue(dataset, keyword);
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const alphabetic = (value as { Alphabetic?: unknown }).Alphabetic;
    return typeof alphabetic === 'string' ? alphabetic : '';
  }
  return '';
}

/** Clamps to the VR's maximum length in characters, so the index never takes unbounded strings. */
function clamp(value: string, vr: string): string {
  const max = MAX_VALUE_LENGTH[vr];
  if (max === undefined || value.length <= max) return value;
  return Array.from(value).slice(0, max).join('');
}

function firstInteger(dataset: DicomJson, keyword: Keyword): number | null {
  const value = firstValue(dataset, keyword);
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= INT32_MIN &&
    value <= INT32_MAX
    ? value
    : null;
}
