-- Who may see what (issue 4): accounts, the patient records linked to them, the organisation that
-- sent each study, patient-issued access grants, share links, and the audit trail.
-- Portable SQL for PostgreSQL 15 and PGlite. Identifiers are opaque (random) ids, never patient data.
-- Default deny: a row here is the only way a principal other than the archive reader, the patient
-- and the sending organisation can see a study (core/grants/scope-sql.ts reads these tables).

CREATE TABLE account (
  account_id text PRIMARY KEY,
  kind text NOT NULL,
  display_name text NOT NULL,
  -- The organisation an organisation-admin administers (config organisations[].id); NULL otherwise.
  organisation_id text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT account_kind
    CHECK (kind IN ('patient', 'doctor', 'organisation-admin', 'platform-admin')),
  CONSTRAINT account_organisation_admin
    CHECK (kind <> 'organisation-admin' OR organisation_id IS NOT NULL)
);
-- A patient chooses a doctor by the start of the name: GET /api/doctors?q=.
CREATE INDEX account_doctor_name
  ON account (lower(display_name) text_pattern_ops) WHERE kind = 'doctor';

-- A patient account sees the studies of the patient records (patient rows) linked to it, including
-- studies that arrive later. Linking may create the patient row before its first study arrives.
CREATE TABLE patient_record_link (
  account_id text NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
  patient_key bigint NOT NULL REFERENCES patient (patient_key) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, patient_key)
);
CREATE INDEX patient_record_link_patient_key ON patient_record_link (patient_key);

-- The organisation whose AE title (or STOW-RS token) sent the study first; NULL when none.
ALTER TABLE study ADD COLUMN organisation_id text NULL;
CREATE INDEX study_organisation_id ON study (organisation_id) WHERE organisation_id IS NOT NULL;

-- A share link: whoever holds the token sees exactly the grant that names it. Only the token's
-- SHA-256 is stored; the optional PIN is a salted scrypt hash, locked after repeated failures.
CREATE TABLE share_link (
  share_link_id text PRIMARY KEY,
  token_sha256 text NOT NULL,
  created_by text NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
  pin_hash text NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_at timestamptz NULL,
  expires_at timestamptz NULL,
  revoked_at timestamptz NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT share_link_token UNIQUE (token_sha256)
);
CREATE INDEX share_link_created_by ON share_link (created_by, created_at);

-- A patient's grant to a doctor account or to a share link, on a patient record, a study or one
-- series. patient_key is always set (the record the grantor owns); the grant only counts while the
-- grantor is still linked to that record and the study still belongs to it.
CREATE TABLE access_grant (
  grant_id text PRIMARY KEY,
  grantor_account_id text NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
  grantee_account_id text NULL REFERENCES account (account_id) ON DELETE CASCADE,
  grantee_share_link_id text NULL REFERENCES share_link (share_link_id) ON DELETE CASCADE,
  patient_key bigint NOT NULL REFERENCES patient (patient_key) ON DELETE CASCADE,
  study_instance_uid text NULL,
  series_instance_uid text NULL,
  access text NOT NULL,
  expires_at timestamptz NULL,
  revoked_at timestamptz NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT access_grant_access CHECK (access IN ('read', 'download')),
  CONSTRAINT access_grant_one_grantee
    CHECK ((grantee_account_id IS NULL) <> (grantee_share_link_id IS NULL)),
  CONSTRAINT access_grant_series_in_study
    CHECK (series_instance_uid IS NULL OR study_instance_uid IS NOT NULL)
);
-- The grant filters of every request look up the live grants of one grantee.
CREATE INDEX access_grant_grantee_account
  ON access_grant (grantee_account_id, patient_key) WHERE revoked_at IS NULL;
CREATE INDEX access_grant_grantee_share_link
  ON access_grant (grantee_share_link_id, patient_key) WHERE revoked_at IS NULL;
CREATE INDEX access_grant_grantor ON access_grant (grantor_account_id, created_at);
CREATE INDEX access_grant_patient_key ON access_grant (patient_key);

-- The audit trail (core/audit): who (actor), what (action, UIDs), when (at), how (via, outcome).
-- No foreign keys: the trail outlives the rows it describes. patient_key is resolved at write time
-- (from the study when only a UID is known) so that a patient reads the events on their records.
CREATE TABLE audit_event (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NULL,
  via text NOT NULL,
  outcome text NOT NULL,
  patient_key bigint NULL,
  study_instance_uid text NULL,
  series_instance_uid text NULL,
  sop_instance_uid text NULL,
  detail jsonb NULL
);
CREATE INDEX audit_event_patient_key ON audit_event (patient_key, at DESC)
  WHERE patient_key IS NOT NULL;
CREATE INDEX audit_event_at ON audit_event (at);
