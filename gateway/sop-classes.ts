/**
 * Which abstract syntaxes the gateway accepts (PS3.4 Annex B, Storage Service Class). "Every storage SOP
 * class" cannot be a fixed list (new ones appear in every edition of PS3.6), so the rule is by UID
 * structure: the Storage SOP Classes live under 1.2.840.10008.5.1.4.1.1, a few newer ones elsewhere
 * (listed), and private SOP classes (roots other than 1.2.840.10008) are vendors' storage objects.
 */
import dimse from 'dcmjs-dimse';

export const VerificationSOPClassUID = '1.2.840.10008.1.1';

const STANDARD_ROOT = '1.2.840.10008.';
const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.';

/** Storage SOP Classes outside 1.2.840.10008.5.1.4.1.1 (PS3.4 Table B.5-1). */
const OTHER_STORAGE = new Set<string>([
  '1.2.840.10008.5.1.4.34.7', // RT Beams Delivery Instruction Storage
  '1.2.840.10008.5.1.4.34.10', // RT Brachy Application Setup Delivery Instruction Storage
  '1.2.840.10008.5.1.4.38.1', // Hanging Protocol Storage
  '1.2.840.10008.5.1.4.39.1', // Color Palette Storage
  '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
  '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
  '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
  ...Object.values(dimse.constants.StorageClass as Record<string, string>),
]);

export function isStorageSOPClass(uid: string, acceptPrivate = true): boolean {
  if (uid.startsWith(STORAGE_ROOT) || OTHER_STORAGE.has(uid)) return true;
  return acceptPrivate && !uid.startsWith(STANDARD_ROOT);
}

/** Query/Retrieve Information Models (PS3.4 Annex C, Table C.4-1… and §C.6). */
export const QueryRetrieveSOPClass = {
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  PatientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
} as const;

/** Storage Commitment Push Model (PS3.4 Annex J): SOP Class and its well-known SOP Instance. */
export const StorageCommitmentPushModelSOPClassUID = '1.2.840.10008.1.20.1';
export const StorageCommitmentPushModelSOPInstanceUID = '1.2.840.10008.1.20.1.1';

const QUERY_RETRIEVE = new Set<string>(Object.values(QueryRetrieveSOPClass));

/** The abstract syntaxes answered from the archive (index and object store). */
export function needsArchive(uid: string): boolean {
  return QUERY_RETRIEVE.has(uid) || uid === StorageCommitmentPushModelSOPClassUID;
}

/** Which Query/Retrieve model a C-FIND/C-MOVE/C-GET SOP Class belongs to. */
export function queryRetrieveModel(uid: string): 'patient' | 'study' | undefined {
  if (uid.startsWith('1.2.840.10008.5.1.4.1.2.1.'))
    return QUERY_RETRIEVE.has(uid) ? 'patient' : undefined;
  if (uid.startsWith('1.2.840.10008.5.1.4.1.2.2.'))
    return QUERY_RETRIEVE.has(uid) ? 'study' : undefined;
  return undefined;
}
