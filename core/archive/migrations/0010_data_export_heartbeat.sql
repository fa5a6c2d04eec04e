-- An export is built by one process, in the background. That process writes heartbeat_at every few
-- seconds while it works, so that any process can tell an export whose builder died (its heartbeat
-- stops) from one still running elsewhere (Exports.failStale, core/data-rights/export/exports.ts).
-- Rows from before this column start with the time of the migration: stale a minute later.

ALTER TABLE data_export ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
