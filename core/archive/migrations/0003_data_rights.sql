-- Data rights of a patient record (GDPR art. 15-21): export, erasure with receipt and tombstone,
-- restriction of processing, rectification as an overlay, consent-gated de-identified shares and
-- the choice of a storage region. Portable SQL (PostgreSQL 15 and PGlite). Tables that hang off a
-- patient record cascade with it; the erasure receipts and tombstones outlive it on purpose.

-- Restriction of processing (art. 18): while a row exists, only the patient (and the archive reader,
-- for integrity) reads the record: grants and share links do not serve it, searches do not return it.
CREATE TABLE patient_restriction (
  patient_key bigint PRIMARY KEY REFERENCES patient (patient_key) ON DELETE CASCADE,
  restricted_at timestamptz NOT NULL DEFAULT now(),
  restricted_by text NOT NULL
);

-- Rectification (art. 16) as an overlay: the stored objects keep their bytes; QIDO-RS and WADO-RS
-- metadata serve the corrected values. Every correction is kept (history); the overlay holds the
-- values in force (NULL: not corrected).
CREATE TABLE patient_rectification (
  rectification_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_key bigint NOT NULL REFERENCES patient (patient_key) ON DELETE CASCADE,
  patient_name text,
  patient_birth_date text,
  patient_sex text,
  reason text NOT NULL,
  rectified_by text NOT NULL,
  rectified_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_rectification_patient ON patient_rectification (patient_key, rectification_id);

CREATE TABLE patient_overlay (
  patient_key bigint PRIMARY KEY REFERENCES patient (patient_key) ON DELETE CASCADE,
  patient_name text,
  patient_birth_date text,
  patient_sex text
);

-- Region choice: new instances of the patient go to this region's object store.
CREATE TABLE patient_region (
  patient_key bigint PRIMARY KEY REFERENCES patient (patient_key) ON DELETE CASCADE,
  region text NOT NULL,
  assigned_at timestamptz NOT NULL DEFAULT now()
);

-- Export of all imaging of a record (art. 15/20): a ZIP with a DICOMDIR built in the background.
CREATE TABLE data_export (
  export_id text PRIMARY KEY,
  patient_key bigint NOT NULL REFERENCES patient (patient_key) ON DELETE CASCADE,
  requested_by text NOT NULL,
  state text NOT NULL DEFAULT 'running',
  done integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 0,
  bytes bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CONSTRAINT data_export_state CHECK (state IN ('running', 'ready', 'failed'))
);

-- Erasure (art. 17). patient_key has no foreign key: the receipt outlives the record. One running
-- erasure per record: a retry after a crash resumes it.
CREATE TABLE erasure (
  erasure_id text PRIMARY KEY,
  patient_key bigint NOT NULL,
  requested_by text NOT NULL,
  state text NOT NULL DEFAULT 'running',
  started_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  counts jsonb NOT NULL,
  receipt text, -- the exact JSON whose SHA-256 is receipt_sha256
  receipt_sha256 text,
  CONSTRAINT erasure_state CHECK (state IN ('running', 'done'))
);
CREATE UNIQUE INDEX erasure_running ON erasure (patient_key) WHERE state = 'running';

-- What an erasure leaves behind: keyed hashes (never the values) of the patient identity and of
-- the erased StudyInstanceUIDs and SOPInstanceUIDs, so that a re-send is discarded, not stored.
CREATE TABLE erasure_tombstone (
  kind text NOT NULL,
  hash text NOT NULL,
  erasure_id text NOT NULL REFERENCES erasure (erasure_id),
  discarded bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, hash),
  CONSTRAINT erasure_tombstone_kind CHECK (kind IN ('patient', 'study', 'instance'))
);

-- Consent to de-identified sharing (PS3.15 Annex E copies), given and withdrawn by the patient.
CREATE TABLE deidentification_consent (
  consent_id text PRIMARY KEY,
  patient_key bigint NOT NULL REFERENCES patient (patient_key) ON DELETE CASCADE,
  purpose text NOT NULL,
  given_by text NOT NULL,
  given_at timestamptz NOT NULL DEFAULT now(),
  withdrawn_at timestamptz
);
CREATE INDEX deidentification_consent_patient ON deidentification_consent (patient_key);

-- A de-identified share: served copies get new UIDs derived from uid_secret (same UID, same
-- replacement, within one share; unrelated across shares).
CREATE TABLE deidentified_share (
  share_id text PRIMARY KEY,
  patient_key bigint NOT NULL REFERENCES patient (patient_key) ON DELETE CASCADE,
  consent_id text NOT NULL REFERENCES deidentification_consent (consent_id) ON DELETE CASCADE,
  study_instance_uid text NOT NULL,
  uid_secret text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
