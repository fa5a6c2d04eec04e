/**
 * The index port: patient / study / series / instance metadata in PostgreSQL (pg) or PGlite, same SQL.
 * Writes follow begin → store bytes → complete (dicom-server's StoreOrchestrator): a crash between the
 * steps leaves a `pending` instance that a retry resumes, never a half-indexed one. Queries only ever
 * see `stored` instances.
 */

/** DICOM JSON Model (PS3.18 §F.2): tag "GGGGEEEE" → { vr, Value? | InlineBinary? | BulkDataURI? }. */
export type DicomJson = Record<string, DicomJsonAttribute>;
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** The attributes Lightbox indexes, by DICOM keyword, read from an instance's header. */
export interface IndexedAttributes {
  PatientID: string;
  IssuerOfPatientID: string;
  PatientName: string;
  PatientBirthDate: string;
  PatientSex: string;
  StudyInstanceUID: string;
  StudyDate: string;
  StudyTime: string;
  AccessionNumber: string;
  StudyID: string;
  StudyDescription: string;
  ReferringPhysicianName: string;
  SeriesInstanceUID: string;
  Modality: string;
  SeriesNumber: number | null;
  SeriesDescription: string;
  SOPInstanceUID: string;
  SOPClassUID: string;
  InstanceNumber: number | null;
  Rows: number | null;
  Columns: number | null;
  NumberOfFrames: number | null;
}

export interface StoredObject {
  SOPInstanceUID: string;
  TransferSyntaxUID: string;
  objectKey: string;
  size: number;
  sha256: string;
  callingAETitle: string;
  receivedAt: string;
}

export type BeginOutcome =
  /** No row existed: a pending row now claims the object key for these bytes. */
  | 'new'
  /** A pending row with the same bytes exists (an earlier attempt stopped half way): carry on. */
  | 'resume'
  /** Already stored with the same bytes: nothing to do. */
  | 'duplicate'
  /** A row exists with other bytes: keep the first, record a conflict. */
  | 'conflict';

export interface InstanceRow extends StoredObject {
  StudyInstanceUID: string | null;
  SeriesInstanceUID: string | null;
  SOPClassUID: string;
  state: 'pending' | 'stored';
}

export interface IndexCounts {
  patients: number;
  studies: number;
  series: number;
  instances: number;
  conflicts: number;
}

export interface IndexStore {
  /** Applies core/archive/migrations/*.sql in order, once each. Safe to call from every process. */
  migrate(): Promise<void>;
  beginInstance(object: StoredObject & { SOPClassUID: string }): Promise<BeginOutcome>;
  /** One transaction: upsert patient, study, series; mark the instance stored with its attributes. */
  completeInstance(
    object: StoredObject,
    attributes: IndexedAttributes,
    metadata: DicomJson,
  ): Promise<void>;
  recordConflict(object: StoredObject): Promise<void>;
  getInstance(SOPInstanceUID: string): Promise<InstanceRow | null>;
  counts(): Promise<IndexCounts>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
