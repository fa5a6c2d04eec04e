/**
 * The index port: patient / study / series / instance metadata in PostgreSQL (pg) or PGlite, same SQL.
 * Writes follow begin → store bytes → complete (dicom-server's StoreOrchestrator): a crash between the
 * steps leaves a `pending` instance that a retry resumes, never a half-indexed one. Queries only ever
 * see `stored` instances.
 */

import type { SOPReference } from './commitment-query.js';
import type { PatientQuery } from './patient-query.js';
import type { QidoQuery, QidoResult } from './qido-query.js';
import type { SqlClient } from './sql-client.js';
import type { RetrieveKeys } from './retrieve-query.js';
import type { StudyScope } from '../grants/grants.js';

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
  /** The organisation that sent it (core/grants/organisations.ts); the study keeps the first. */
  organisationId?: string;
}

export type BeginOutcome =
  /** No row existed: a pending row now claims the object key for these bytes. */
  | 'new'
  /** A pending row with the same bytes exists (an earlier attempt stopped half way): carry on. */
  | 'resume'
  /** Already stored with the same bytes: nothing to do. */
  | 'duplicate'
  /** A row exists with other bytes: keep the first, record a conflict. */
  | 'conflict'
  /** An erased record's (a tombstone matched): nothing claimed, the discard counted. */
  | 'discarded';

/**
 * The tombstone hashes an instance is checked against as it is claimed (core/data-rights/erasure/
 * tombstones.ts computes them); null matches nothing.
 */
export interface TombstoneProbe {
  instance: string;
  study: string;
  /** null unless erased patients' new studies are discarded too. */
  patient: string | null;
}

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

/** What a WADO-RS request names (PS3.18 §10.4.1): a study, one of its series, or one instance. */
export interface RetrieveTarget {
  StudyInstanceUID: string;
  SeriesInstanceUID?: string;
  SOPInstanceUID?: string;
  /** Only these series (the series core/grants lets the principal read); absent: every series. */
  SeriesInstanceUIDs?: readonly string[];
}

/** A stored instance and where its bytes are, as WADO-RS streams them. */
export interface StoredInstance {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  SOPClassUID: string;
  TransferSyntaxUID: string;
  objectKey: string;
  size: number;
  sha256: string;
}

/**
 * A stored instance with its DICOM JSON header as stored (text, BulkDataURI still ''): what WADO-RS
 * metadata needs of it, and nothing else.
 */
export interface StoredInstanceMetadata extends Pick<
  StoredInstance,
  'StudyInstanceUID' | 'SeriesInstanceUID' | 'SOPInstanceUID' | 'TransferSyntaxUID' | 'size'
> {
  metadata: string;
  InstanceNumber: number | null;
  /** Image Pixel Module attributes of the header (PS3.3 §C.7.6.3), null when absent. */
  Rows: number | null;
  Columns: number | null;
  NumberOfFrames: number | null;
  BitsAllocated: number | null;
}

/**
 * WADO-RS metadata of a target: its stored instances with their headers, and the target's version:
 * a text that changes whenever any of its instances' rows or its study's rectification overlay
 * changes (null when nothing is stored), for caches and entity tags.
 */
export interface TargetMetadata {
  version: string | null;
  instances: StoredInstanceMetadata[];
}

export interface IndexStore {
  /** The database itself, for the modules that share its schema (core/grants, core/audit). */
  readonly sql: SqlClient;
  /** Applies core/archive/migrations/*.sql in order, once each. Safe to call from every process. */
  migrate(): Promise<void>;
  /**
   * Claims the SOPInstanceUID for these bytes (a pending row), or says why not. With `tombstones`,
   * in the same statement: an instance of an erased record is 'discarded', counted on the most
   * specific tombstone it matched, and its SOPInstanceUID buried too (so that a re-run of its job,
   * its spool entry gone, can tell "discarded" from "lost").
   */
  beginInstance(
    object: StoredObject & { SOPClassUID: string },
    tombstones?: TombstoneProbe,
  ): Promise<BeginOutcome>;
  /** One transaction: upsert patient, study, series; mark the instance stored with its attributes. */
  completeInstance(
    object: StoredObject,
    attributes: IndexedAttributes,
    metadata: DicomJson,
  ): Promise<void>;
  recordConflict(object: StoredObject): Promise<void>;
  /** Whether these bytes (sha256) of the SOP Instance UID are recorded as a conflict. */
  hasConflict(SOPInstanceUID: string, sha256: string): Promise<boolean>;
  getInstance(SOPInstanceUID: string): Promise<InstanceRow | null>;
  /** QIDO-RS (PS3.18 §10.6), one statement each; `query.level` must match the method. */
  searchForStudies(query: QidoQuery): Promise<QidoResult>;
  searchForSeries(query: QidoQuery): Promise<QidoResult>;
  searchForInstances(query: QidoQuery): Promise<QidoResult>;
  /** C-FIND PATIENT level (Patient Root, PS3.4 §C.6.1): patients with a study in `query.scope`. */
  searchForPatients(query: PatientQuery): Promise<QidoResult>;
  /** C-MOVE / C-GET: the stored instances the keys name, within `scope` (applied in SQL). */
  findInstancesToRetrieve(keys: RetrieveKeys, scope: StudyScope): Promise<StoredInstance[]>;
  /** Storage Commitment: the references (commitment-query referenceKey) stored with that SOP Class, for this requester. */
  findCommittedInstances(
    references: readonly SOPReference[],
    requester: { callingAETitle: string; scope: StudyScope },
  ): Promise<Set<string>>;
  /** The stored instances of a study, series or instance, in series and instance number order. */
  findStoredInstances(target: RetrieveTarget): Promise<StoredInstance[]>;
  /**
   * The same, with each instance's DICOM JSON header and the target's version: one query.
   * `background`: behind every other statement (QueryOptions.background), for work nobody waits for.
   */
  retrieveMetadata(
    target: RetrieveTarget,
    options?: { background?: boolean },
  ): Promise<TargetMetadata>;
  /** The target's version alone (as retrieveMetadata reads it): one light query. */
  targetVersion(target: RetrieveTarget): Promise<string | null>;
  counts(): Promise<IndexCounts>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
