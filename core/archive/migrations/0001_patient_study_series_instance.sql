-- The four levels of the DICOM model of the real world that Lightbox indexes (PS3.3 §7; the
-- Patient Root query model, PS3.4 §C.6.1): patient, study, series, instance; plus the re-sends
-- whose bytes differ from the first.
-- Column names are the snake_case of the DICOM keywords (PS3.6). Portable SQL: this script runs
-- unchanged on PostgreSQL 15 and on PGlite (PostgreSQL 18). No BEGIN/COMMIT here: the runner
-- wraps each file in one transaction.

-- Dates (DA), times (TM) and names (PN) stay text as received: YYYYMMDD strings compare in date
-- order, and a malformed value must not stop an instance from being indexed.

CREATE TABLE patient (
  patient_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Empty strings, never NULL, so that the unique key also holds for an empty PatientID (type 2).
  issuer_of_patient_id text NOT NULL DEFAULT '',
  patient_id text NOT NULL DEFAULT '',
  patient_name text NOT NULL DEFAULT '',
  patient_birth_date text NOT NULL DEFAULT '',
  patient_sex text NOT NULL DEFAULT '',
  CONSTRAINT patient_identity UNIQUE (issuer_of_patient_id, patient_id)
);

CREATE TABLE study (
  study_instance_uid text PRIMARY KEY,
  patient_key bigint NOT NULL REFERENCES patient (patient_key),
  study_date text NOT NULL DEFAULT '',
  study_time text NOT NULL DEFAULT '',
  accession_number text NOT NULL DEFAULT '',
  study_id text NOT NULL DEFAULT '',
  study_description text NOT NULL DEFAULT '',
  referring_physician_name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE series (
  series_instance_uid text PRIMARY KEY,
  study_instance_uid text NOT NULL REFERENCES study (study_instance_uid),
  modality text NOT NULL DEFAULT '',
  series_number integer,
  series_description text NOT NULL DEFAULT ''
);

-- A row is 'pending' from beginInstance until completeInstance has indexed it; queries only see
-- 'stored' rows. While pending, the series and study are not known yet.
CREATE TABLE instance (
  sop_instance_uid text PRIMARY KEY,
  study_instance_uid text REFERENCES study (study_instance_uid),
  series_instance_uid text REFERENCES series (series_instance_uid),
  sop_class_uid text NOT NULL,
  instance_number integer,
  transfer_syntax_uid text NOT NULL,
  "rows" integer,
  "columns" integer,
  number_of_frames integer,
  object_key text NOT NULL,
  size bigint NOT NULL,
  sha256 text NOT NULL,
  calling_ae_title text NOT NULL DEFAULT '',
  received_at timestamptz NOT NULL,
  stored_at timestamptz,
  state text NOT NULL DEFAULT 'pending',
  -- The DICOM JSON Model of the header (PS3.18 §F.2), served by WADO-RS metadata.
  metadata jsonb,
  CONSTRAINT instance_state CHECK (state IN ('pending', 'stored')),
  CONSTRAINT instance_stored_complete CHECK (
    state = 'pending'
    OR (study_instance_uid IS NOT NULL AND series_instance_uid IS NOT NULL
        AND stored_at IS NOT NULL AND metadata IS NOT NULL)
  )
);

-- Same SOPInstanceUID, other bytes: the first stays, each distinct re-send is kept aside once.
CREATE TABLE instance_conflict (
  conflict_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sop_instance_uid text NOT NULL,
  sha256 text NOT NULL,
  size bigint NOT NULL,
  object_key text NOT NULL,
  calling_ae_title text NOT NULL DEFAULT '',
  received_at timestamptz NOT NULL,
  CONSTRAINT instance_conflict_bytes UNIQUE (sop_instance_uid, sha256)
);

-- QIDO-RS required matching attributes (PS3.18 §10.6, Table 10.6.1-5). Names match
-- case-insensitively and by prefix (wildcard "Smith*"): lower(…) text_pattern_ops serves
-- LIKE 'smith%' whatever the collation.
CREATE INDEX patient_patient_id ON patient (patient_id);
CREATE INDEX patient_patient_name ON patient (lower(patient_name) text_pattern_ops);
CREATE INDEX patient_patient_birth_date ON patient (patient_birth_date);

CREATE INDEX study_patient_key ON study (patient_key);
CREATE INDEX study_study_date ON study (study_date, study_time);
CREATE INDEX study_accession_number ON study (accession_number);
CREATE INDEX study_study_id ON study (study_id);
CREATE INDEX study_referring_physician_name
  ON study (lower(referring_physician_name) text_pattern_ops);
CREATE INDEX study_updated_at ON study (updated_at);

CREATE INDEX series_study_instance_uid ON series (study_instance_uid);
-- ModalitiesInStudy is answered from series.modality.
CREATE INDEX series_modality ON series (modality, study_instance_uid);

CREATE INDEX instance_series_instance_uid ON instance (series_instance_uid, instance_number);
CREATE INDEX instance_study_instance_uid ON instance (study_instance_uid);
CREATE INDEX instance_sop_class_uid ON instance (sop_class_uid);
-- Sweeping instances left pending by a crash.
CREATE INDEX instance_pending ON instance (received_at) WHERE state = 'pending';
