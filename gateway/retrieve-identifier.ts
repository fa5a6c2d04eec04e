/**
 * A C-MOVE or C-GET identifier (PS3.4 §C.4.2.1.4, §C.4.3.1.3) → the keys of what to send: the unique
 * key of the Query/Retrieve level, a single value or a UID list. Anything else in the identifier is
 * ignored, as the standard says; a missing or malformed unique key is BadRequest (0xA900).
 */
import type { DicomJson } from '../core/archive/index-store.js';
import type { RetrieveKeys } from '../core/archive/retrieve-query.js';
import { assertValidUID } from '../core/dicom/uid.js';
import { LightboxError } from '../core/errors.js';
import { queryRetrieveLevel, textValues, type QueryModel } from './query-identifier.js';

const TAGS = {
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
} as const;

function uidList(identifier: DicomJson, keyword: keyof typeof TAGS): string[] | undefined {
  const values = textValues(identifier[TAGS[keyword]])
    .flatMap((v) => v.split('\\'))
    .filter((v) => v !== '');
  if (values.length === 0) return undefined;
  return values.map((v) => assertValidUID(v, keyword));
}

function required<T>(value: T | undefined, keyword: string): T {
  if (value === undefined) throw new LightboxError('BadRequest', `${keyword} is required`);
  return value;
}

export function parseRetrieveIdentifier(identifier: DicomJson, model: QueryModel): RetrieveKeys {
  const level = queryRetrieveLevel(identifier, model);
  switch (level) {
    case 'PATIENT': {
      const [PatientID, ...more] = textValues(identifier[TAGS.PatientID]);
      if (!PatientID || more.length > 0 || /[*?\\]/.test(PatientID)) {
        throw new LightboxError('BadRequest', 'PatientID is required, one value');
      }
      return { PatientID };
    }
    case 'STUDY':
      return {
        StudyInstanceUIDs: required(uidList(identifier, 'StudyInstanceUID'), 'StudyInstanceUID'),
      };
    case 'SERIES':
      return {
        StudyInstanceUIDs: uidList(identifier, 'StudyInstanceUID'),
        SeriesInstanceUIDs: required(uidList(identifier, 'SeriesInstanceUID'), 'SeriesInstanceUID'),
      };
    case 'IMAGE':
      return {
        StudyInstanceUIDs: uidList(identifier, 'StudyInstanceUID'),
        SeriesInstanceUIDs: uidList(identifier, 'SeriesInstanceUID'),
        SOPInstanceUIDs: required(uidList(identifier, 'SOPInstanceUID'), 'SOPInstanceUID'),
      };
  }
}
