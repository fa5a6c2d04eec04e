-- A search is one audit event, however many records it found. QIDO-RS wrote one audit_event row
-- per study (or series) returned: 101 rows for OHIF's study list, about 5 ms of PGlite per search,
-- which every next request waited for. Such an event now names its records in arrays aligned by
-- position: study_instance_uids[n] (and series_instance_uids[n] at series and instance level)
-- belongs to the patient record patient_keys[n], resolved at write time like patient_key.
-- A patient reads only the positions of their own records (core/audit/audit-trail.ts), never the
-- other UIDs of the same event.

ALTER TABLE audit_event
  ADD COLUMN study_instance_uids text[] NULL,
  ADD COLUMN series_instance_uids text[] NULL,
  ADD COLUMN patient_keys bigint[] NULL;

CREATE INDEX audit_event_patient_keys ON audit_event USING gin (patient_keys)
  WHERE patient_keys IS NOT NULL;
