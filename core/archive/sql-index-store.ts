/**
 * IndexStore in SQL: one implementation for PostgreSQL (pg) and PGlite, over SqlClient. Every write
 * is an INSERT … ON CONFLICT, so that a retried job (the worker's queue re-runs a killed job)
 * converges on the same rows. Schema: migrations/0001_patient_study_series_instance.sql.
 */
import { LightboxError } from '../errors.js';
import type {
  BeginOutcome,
  DicomJson,
  IndexCounts,
  IndexedAttributes,
  IndexStore,
  InstanceRow,
  RetrieveTarget,
  StoredInstance,
  TargetMetadata,
  StoredObject,
  TombstoneProbe,
} from './index-store.js';
import { searchIndex, type QidoQuery, type QidoResult } from './qido-query.js';
import {
  findInstancesToRetrieve,
  findStoredInstances,
  retrieveMetadata,
  targetVersion,
  type RetrieveKeys,
} from './retrieve-query.js';
import { findCommittedInstances, type SOPReference } from './commitment-query.js';
import { searchForPatients, type PatientQuery } from './patient-query.js';
import type { StudyScope } from '../grants/grants.js';
import { loadMigrations, migrate } from './migrate.js';
import type { SqlClient, SqlRow } from './sql-client.js';

export interface SqlIndexStoreOptions {
  /** Where the NNNN_name.sql files are; defaults to migrations/ beside migrate.ts. */
  migrationsDirectory?: string;
}

/**
 * A pending row claims the SOPInstanceUID for one sha256 until completeInstance stores it. One round
 * trip: the claim, or else the row that holds the UID (from the statement's snapshot; a row committed
 * by a concurrent claim after that snapshot is seen by the caller's retry).
 * Unless a tombstone matches ($9 instance, $10 study, $11 patient hash; NULL matches nothing): then
 * nothing is claimed, the discard is counted once on the most specific tombstone, and the
 * SOPInstanceUID is buried under the same erasure. (This was a statement of its own before the
 * claim: ~0.4 ms of the PGlite thread per instance.)
 */
const CLAIM_PENDING = `
  WITH hit AS (
    SELECT kind, hash FROM erasure_tombstone
    WHERE (kind = 'instance' AND hash = $9) OR (kind = 'study' AND hash = $10)
       OR (kind = 'patient' AND hash = $11)
    ORDER BY CASE kind WHEN 'instance' THEN 0 WHEN 'study' THEN 1 ELSE 2 END LIMIT 1
  ),
  counted AS (
    UPDATE erasure_tombstone t SET discarded = t.discarded + 1
    FROM hit WHERE t.kind = hit.kind AND t.hash = hit.hash
    RETURNING t.erasure_id
  ),
  buried AS (
    INSERT INTO erasure_tombstone (kind, hash, erasure_id)
    SELECT 'instance', $9, erasure_id FROM counted
    ON CONFLICT (kind, hash) DO NOTHING
  ),
  claimed AS (
    INSERT INTO instance (sop_instance_uid, sop_class_uid, transfer_syntax_uid, object_key, size,
                          sha256, calling_ae_title, received_at, state)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8::timestamptz, 'pending'
    WHERE NOT EXISTS (SELECT 1 FROM hit)
    ON CONFLICT (sop_instance_uid) DO NOTHING
    RETURNING sha256, state
  )
  SELECT sha256, state, true AS claimed, false AS discarded, NULL AS erasure_id FROM claimed
  UNION ALL
  SELECT NULL, NULL, false, true, erasure_id FROM counted
  UNION ALL
  SELECT sha256, state, false, false, NULL FROM instance
  WHERE sop_instance_uid = $1 AND NOT EXISTS (SELECT 1 FROM claimed)
    AND NOT EXISTS (SELECT 1 FROM hit)`;

/** A write in a durable commit, after a discard: see beginInstance. Keeps an earlier erasure's ID. */
const REBURY_DISCARDED = `
  INSERT INTO erasure_tombstone (kind, hash, erasure_id) VALUES ('instance', $1, $2)
  ON CONFLICT (kind, hash) DO UPDATE SET erasure_id = erasure_tombstone.erasure_id`;

/**
 * completeInstance in ONE statement (one round trip, atomic): patient → study → series → instance, as
 * data-modifying CTEs (foreign keys are checked at the end of the statement). `guard` makes the whole
 * statement write nothing when the SOPInstanceUID is held by other bytes; the caller then sees no row.
 * - A patient is (IssuerOfPatientID, PatientID), PS3.3 §C.7.1.1; the latest demographics win.
 * - Study and series change (and study.updated_at moves) only when a value differs, so a repeated
 *   completeInstance changes nothing.
 * - A study keeps the organisation that sent it first (NULL until one does).
 * - The instance is marked stored (inserted if beginInstance was skipped); the first receipt's calling
 *   AE, received_at and stored_at are kept.
 */
const COMPLETE_INSTANCE = `
  WITH guard AS (
    SELECT 1 AS ok
    WHERE NOT EXISTS (SELECT 1 FROM instance WHERE sop_instance_uid = $1 AND sha256 <> $12)
  ),
  p AS (
    INSERT INTO patient (issuer_of_patient_id, patient_id, patient_name, patient_birth_date,
                         patient_sex)
    SELECT $16, $17, $18, $19, $20 FROM guard
    ON CONFLICT (issuer_of_patient_id, patient_id) DO UPDATE SET
      patient_name = EXCLUDED.patient_name,
      patient_birth_date = EXCLUDED.patient_birth_date,
      patient_sex = EXCLUDED.patient_sex
    RETURNING patient_key
  ),
  st AS (
    INSERT INTO study AS s (study_instance_uid, patient_key, study_date, study_time,
                           accession_number, study_id, study_description, referring_physician_name,
                           organisation_id)
    SELECT $2, p.patient_key, $21, $22, $23, $24, $25, $26, $30 FROM p
    ON CONFLICT (study_instance_uid) DO UPDATE SET
      patient_key = EXCLUDED.patient_key,
      study_date = EXCLUDED.study_date,
      study_time = EXCLUDED.study_time,
      accession_number = EXCLUDED.accession_number,
      study_id = EXCLUDED.study_id,
      study_description = EXCLUDED.study_description,
      referring_physician_name = EXCLUDED.referring_physician_name,
      organisation_id = COALESCE(s.organisation_id, EXCLUDED.organisation_id),
      updated_at = now()
    WHERE (s.patient_key, s.study_date, s.study_time, s.accession_number, s.study_id,
           s.study_description, s.referring_physician_name, s.organisation_id)
          IS DISTINCT FROM
          (EXCLUDED.patient_key, EXCLUDED.study_date, EXCLUDED.study_time,
           EXCLUDED.accession_number, EXCLUDED.study_id, EXCLUDED.study_description,
           EXCLUDED.referring_physician_name,
           COALESCE(s.organisation_id, EXCLUDED.organisation_id))
  ),
  se AS (
    INSERT INTO series AS s (series_instance_uid, study_instance_uid, modality, series_number,
                            series_description)
    SELECT $3, $2, $27, $28, $29 FROM guard
    ON CONFLICT (series_instance_uid) DO UPDATE SET
      study_instance_uid = EXCLUDED.study_instance_uid,
      modality = EXCLUDED.modality,
      series_number = EXCLUDED.series_number,
      series_description = EXCLUDED.series_description
    WHERE (s.study_instance_uid, s.modality, s.series_number, s.series_description)
          IS DISTINCT FROM
          (EXCLUDED.study_instance_uid, EXCLUDED.modality, EXCLUDED.series_number,
           EXCLUDED.series_description)
  )
  INSERT INTO instance AS i (sop_instance_uid, study_instance_uid, series_instance_uid,
                            sop_class_uid, instance_number, transfer_syntax_uid, "rows", "columns",
                            number_of_frames, object_key, size, sha256, calling_ae_title,
                            received_at, stored_at, state, metadata)
  SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::timestamptz, now(),
         'stored', $15::jsonb
  FROM guard
  ON CONFLICT (sop_instance_uid) DO UPDATE SET
    study_instance_uid = EXCLUDED.study_instance_uid,
    series_instance_uid = EXCLUDED.series_instance_uid,
    sop_class_uid = EXCLUDED.sop_class_uid,
    instance_number = EXCLUDED.instance_number,
    transfer_syntax_uid = EXCLUDED.transfer_syntax_uid,
    "rows" = EXCLUDED."rows",
    "columns" = EXCLUDED."columns",
    number_of_frames = EXCLUDED.number_of_frames,
    object_key = EXCLUDED.object_key,
    state = 'stored',
    stored_at = COALESCE(i.stored_at, EXCLUDED.stored_at),
    metadata = EXCLUDED.metadata
  WHERE i.sha256 = EXCLUDED.sha256
  RETURNING sop_instance_uid`;

const INSERT_CONFLICT = `
  INSERT INTO instance_conflict (sop_instance_uid, sha256, size, object_key, calling_ae_title,
                                 received_at)
  VALUES ($1, $2, $3, $4, $5, $6::timestamptz)
  ON CONFLICT (sop_instance_uid, sha256) DO NOTHING`;

const SELECT_INSTANCE = `
  SELECT sop_instance_uid, study_instance_uid, series_instance_uid, sop_class_uid,
         transfer_syntax_uid, object_key, size, sha256, calling_ae_title, received_at, state
  FROM instance WHERE sop_instance_uid = $1`;

const COUNTS = `
  SELECT (SELECT count(*) FROM patient)::integer AS patients,
         (SELECT count(*) FROM study)::integer AS studies,
         (SELECT count(*) FROM series)::integer AS series,
         (SELECT count(*) FROM instance WHERE state = 'stored')::integer AS instances,
         (SELECT count(*) FROM instance_conflict)::integer AS conflicts`;

/** The index on a SqlClient; `sql` is public for query modules (QIDO-RS) on the same schema. */
export class SqlIndexStore implements IndexStore {
  constructor(
    readonly sql: SqlClient,
    private readonly options: SqlIndexStoreOptions = {},
  ) {}

  /** Applies the migrations not yet recorded in schema_migrations (see migrate.ts). */
  async migrate(): Promise<void> {
    await migrate(this.sql, await loadMigrations(this.options.migrationsDirectory));
  }

  /**
   * Race-safe: concurrent begins for one SOPInstanceUID serialise on its primary key, so exactly
   * one sees 'new'; the others read the winner's row.
   */
  async beginInstance(
    object: StoredObject & { SOPClassUID: string },
    tombstones?: TombstoneProbe,
  ): Promise<BeginOutcome> {
    const { SOPInstanceUID, sha256 } = object;
    for (let attempt = 0; attempt < 3; attempt++) {
      const [row] = await this.sql.query<{
        sha256: string;
        state: string;
        claimed: boolean;
        discarded: boolean;
        erasure_id: string | null;
      }>(
        CLAIM_PENDING,
        [
          SOPInstanceUID,
          object.SOPClassUID,
          object.TransferSyntaxUID,
          object.objectKey,
          object.size,
          sha256,
          text(object.callingAETitle),
          object.receivedAt,
          tombstones?.instance ?? null,
          tombstones?.study ?? null,
          tombstones?.patient ?? null,
        ],
        // Lost in a crash, the claim is made again by the job's re-run from the spool; the
        // completion's durable commit flushes it otherwise (QueryOptions.asyncCommit).
        { asyncCommit: true },
      );
      if (row?.discarded) {
        // The claim committed without a WAL flush; the discard (its count, the buried
        // SOPInstanceUID) must be on disk before the caller drops the spool entry. A durable
        // commit that writes flushes the WAL up to it: the buried row is written again.
        await this.sql.query(REBURY_DISCARDED, [tombstones?.instance, row.erasure_id]);
        return 'discarded';
      }
      if (row?.claimed) return 'new';
      if (row) {
        if (row.sha256 !== sha256) return 'conflict';
        return row.state === 'stored' ? 'duplicate' : 'resume';
      }
      // A concurrent claim committed after this statement's snapshot, or the row went away: again.
    }
    throw new LightboxError('StorageUnavailable', 'instance row kept changing during begin');
  }

  /** One statement: patient → study → series → instance (see COMPLETE_INSTANCE). */
  async completeInstance(
    object: StoredObject,
    attributes: IndexedAttributes,
    metadata: DicomJson,
  ): Promise<void> {
    if (attributes.SOPInstanceUID !== object.SOPInstanceUID) {
      throw new LightboxError('Internal', 'attributes and object describe different instances');
    }
    const a = attributes;
    const stored = await this.sql.query(COMPLETE_INSTANCE, [
      object.SOPInstanceUID,
      a.StudyInstanceUID,
      a.SeriesInstanceUID,
      a.SOPClassUID,
      int32(a.InstanceNumber),
      object.TransferSyntaxUID,
      int32(a.Rows),
      int32(a.Columns),
      int32(a.NumberOfFrames),
      object.objectKey,
      object.size,
      object.sha256,
      text(object.callingAETitle),
      object.receivedAt,
      jsonb(metadata),
      text(a.IssuerOfPatientID),
      text(a.PatientID),
      text(a.PatientName),
      text(a.PatientBirthDate),
      text(a.PatientSex),
      text(a.StudyDate),
      text(a.StudyTime),
      text(a.AccessionNumber),
      text(a.StudyID),
      text(a.StudyDescription),
      text(a.ReferringPhysicianName),
      text(a.Modality),
      int32(a.SeriesNumber),
      text(a.SeriesDescription),
      object.organisationId ?? null,
    ]);
    if (stored.length === 0) {
      throw new LightboxError('Conflict', 'SOPInstanceUID is indexed with other bytes');
    }
  }

  async recordConflict(object: StoredObject): Promise<void> {
    await this.sql.query(INSERT_CONFLICT, [
      object.SOPInstanceUID,
      object.sha256,
      object.size,
      object.objectKey,
      text(object.callingAETitle),
      object.receivedAt,
    ]);
  }

  async hasConflict(SOPInstanceUID: string, sha256: string): Promise<boolean> {
    const rows = await this.sql.query(
      'SELECT 1 FROM instance_conflict WHERE sop_instance_uid = $1 AND sha256 = $2',
      [SOPInstanceUID, sha256],
    );
    return rows.length > 0;
  }

  async getInstance(SOPInstanceUID: string): Promise<InstanceRow | null> {
    const [row] = await this.sql.query(SELECT_INSTANCE, [SOPInstanceUID]);
    return row ? toInstanceRow(row) : null;
  }

  searchForStudies(query: QidoQuery): Promise<QidoResult> {
    return searchIndex(this.sql, query, 'study');
  }

  searchForSeries(query: QidoQuery): Promise<QidoResult> {
    return searchIndex(this.sql, query, 'series');
  }

  searchForInstances(query: QidoQuery): Promise<QidoResult> {
    return searchIndex(this.sql, query, 'instance');
  }

  findStoredInstances(target: RetrieveTarget): Promise<StoredInstance[]> {
    return findStoredInstances(this.sql, target);
  }

  searchForPatients(query: PatientQuery): Promise<QidoResult> {
    return searchForPatients(this.sql, query);
  }

  findInstancesToRetrieve(keys: RetrieveKeys, scope: StudyScope): Promise<StoredInstance[]> {
    return findInstancesToRetrieve(this.sql, keys, scope);
  }

  findCommittedInstances(
    references: readonly SOPReference[],
    requester: { callingAETitle: string; scope: StudyScope },
  ): Promise<Set<string>> {
    return findCommittedInstances(this.sql, references, requester);
  }

  retrieveMetadata(
    target: RetrieveTarget,
    options?: { background?: boolean },
  ): Promise<TargetMetadata> {
    return retrieveMetadata(this.sql, target, options);
  }

  targetVersion(target: RetrieveTarget): Promise<string | null> {
    return targetVersion(this.sql, target);
  }

  async counts(): Promise<IndexCounts> {
    const [row] = await this.sql.query<SqlRow & IndexCounts>(COUNTS);
    return {
      patients: row.patients,
      studies: row.studies,
      series: row.series,
      instances: row.instances,
      conflicts: row.conflicts,
    };
  }

  /** Fails with StorageUnavailable when the database does not answer. */
  async ping(): Promise<void> {
    try {
      await this.sql.query('SELECT 1');
    } catch (error) {
      throw new LightboxError('StorageUnavailable', 'index unavailable', { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}

function toInstanceRow(row: SqlRow): InstanceRow {
  return {
    SOPInstanceUID: row.sop_instance_uid as string,
    StudyInstanceUID: (row.study_instance_uid as string | null) ?? null,
    SeriesInstanceUID: (row.series_instance_uid as string | null) ?? null,
    SOPClassUID: row.sop_class_uid as string,
    TransferSyntaxUID: row.transfer_syntax_uid as string,
    objectKey: row.object_key as string,
    size: Number(row.size), // bigint: a string from pg, a number from PGlite
    sha256: row.sha256 as string,
    callingAETitle: row.calling_ae_title as string,
    receivedAt: new Date(row.received_at as Date | string).toISOString(),
    state: row.state as InstanceRow['state'],
  };
}

/** PostgreSQL text cannot hold NUL, which DICOM allows as padding (PS3.5 §6.2, UI). */
function text(value: string | null | undefined): string {
  return (value ?? '').replaceAll('\0', '');
}

/** Well-formed IS and US values fit a PostgreSQL integer (PS3.5 §6.2); others are not indexed. */
function int32(value: number | null | undefined): number | null {
  return Number.isSafeInteger(value) && Math.abs(value as number) <= 2 ** 31 - 1
    ? (value as number)
    : null;
}

/** jsonb cannot hold \u0000 in a string either. */
function jsonb(metadata: DicomJson): string {
  return JSON.stringify(metadata, (_key, value: unknown) =>
    typeof value === 'string' ? value.replaceAll('\0', '') : value,
  );
}
