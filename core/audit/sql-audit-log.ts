/**
 * The AuditLog on the index database (table audit_event, migrations 0002 and 0008). record() only
 * appends to a buffer; a timer (or a full batch) writes the buffer in a few short background
 * statements, so a request never waits for its audit row and an audit failure never reaches it: it
 * is logged (no patient data) and the batch is retried once at the next write. The patient record
 * of an event that names only a study (or only an instance) is looked up by the same statement, and
 * so is that of each record a search event names (one row per search, its records in arrays), so
 * that a patient can read the events on their records.
 */
import type { SqlQueryable } from '../archive/sql-client.js';
import type { Logger } from '../log.js';
import type { AuditEvent, AuditLog } from './audit-log.js';

export interface SqlAuditLogOptions {
  /** Write at most this long after an event is recorded, ms. */
  flushMs?: number;
  /** Write as soon as this many events are waiting. */
  maxBatch?: number;
  /** Events kept in memory while the database is away; beyond, the oldest are dropped (and counted). */
  maxBuffered?: number;
}

interface Row {
  at: string;
  action: string;
  actor_kind: string;
  actor_id: string | null;
  via: string;
  outcome: string;
  patient_key: string | null;
  study_instance_uid: string | null;
  series_instance_uid: string | null;
  sop_instance_uid: string | null;
  detail: Record<string, unknown> | null;
  /** A search event's records (AuditEvent.records), aligned by position; null otherwise. */
  studies: string[] | null;
  series: (string | null)[] | null;
}

const INSERT = `
  INSERT INTO audit_event (at, action, actor_kind, actor_id, via, outcome, patient_key,
                           study_instance_uid, series_instance_uid, sop_instance_uid, detail,
                           study_instance_uids, series_instance_uids, patient_keys)
  SELECT e.at, e.action, e.actor_kind, e.actor_id, e.via, e.outcome,
         COALESCE(e.patient_key, (SELECT s.patient_key FROM study s
           WHERE s.study_instance_uid = COALESCE(e.study_instance_uid, i.study_instance_uid))),
         COALESCE(e.study_instance_uid, i.study_instance_uid),
         COALESCE(e.series_instance_uid, i.series_instance_uid), e.sop_instance_uid, e.detail,
         e.studies, e.series,
         CASE WHEN e.studies IS NOT NULL THEN ARRAY(
           SELECT (SELECT s.patient_key FROM study s WHERE s.study_instance_uid = r.uid)
           FROM unnest(e.studies) WITH ORDINALITY AS r(uid, n) ORDER BY r.n) END
  FROM jsonb_to_recordset($1::jsonb) AS e(at timestamptz, action text, actor_kind text,
       actor_id text, via text, outcome text, patient_key bigint, study_instance_uid text,
       series_instance_uid text, sop_instance_uid text, detail jsonb, studies text[],
       series text[])
  LEFT JOIN instance i
    ON e.study_instance_uid IS NULL AND i.sop_instance_uid = e.sop_instance_uid`;
// The patient record is a subquery per event (an index lookup): a join let the planner hash the
// whole study table for every batch.

/**
 * Records per INSERT statement: an event counts one, a search event one per record it names (each a
 * patient lookup). A statement takes whole events, so one search of many records may exceed it.
 */
const RECORDS_PER_STATEMENT = 64;

/** The leading events of `rows` that fill one statement (at least one). */
function statementSize(rows: readonly Row[], from: number): number {
  let records = 0;
  let count = 0;
  for (let i = from; i < rows.length; i++) {
    records += rows[i]!.studies?.length || 1;
    if (count > 0 && records > RECORDS_PER_STATEMENT) break;
    count++;
  }
  return count;
}

export class SqlAuditLog implements AuditLog {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dropped = 0;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly sql: SqlQueryable,
    private readonly log: Logger,
    options: SqlAuditLogOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 200;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBuffered = options.maxBuffered ?? 100_000;
  }

  record(event: AuditEvent): void {
    try {
      this.buffer.push(toRow(event));
      if (this.buffer.length > this.maxBuffered) {
        this.dropped += this.buffer.length - this.maxBuffered;
        this.buffer.splice(0, this.buffer.length - this.maxBuffered);
      }
      if (this.buffer.length >= this.maxBatch) this.schedule(0);
      else this.schedule(this.flushMs);
    } catch (error) {
      this.log.error({ err: error }, 'audit event not recorded');
    }
  }

  /** Waits until everything recorded so far is written (or has failed and been logged). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0) await this.write();
    await this.writing;
  }

  private schedule(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, ms);
    this.timer.unref();
  }

  private write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const batch = this.buffer.splice(0, this.maxBatch);
      if (batch.length === 0) return;
      let written = 0;
      try {
        // In statements of a few dozen records, each in the background: on PGlite's one connection
        // a search waits for one short insert at most, never for a whole batch.
        while (written < batch.length) {
          const count = statementSize(batch, written);
          const rows = batch.slice(written, written + count);
          await this.sql.query(INSERT, [JSON.stringify(rows)], { background: true });
          written += count;
        }
      } catch (error) {
        // The events not yet written are kept for the next write unless they failed before: a
        // poison batch must not wedge the trail.
        const retry = batch.slice(written).filter((row) => !(row as { retried?: boolean }).retried);
        for (const row of retry) (row as { retried?: boolean }).retried = true;
        this.buffer.unshift(...retry);
        this.log.error({ err: error, events: batch.length }, 'audit events not written');
        if (retry.length > 0) this.schedule(this.flushMs * 10);
      }
      if (this.dropped > 0) {
        this.log.error({ dropped: this.dropped }, 'audit events dropped: buffer full');
        this.dropped = 0;
      }
    });
    return this.writing;
  }
}

/** Who, as stored: an account, organisation, share link or AE title id; none for the archive reader. */
function actorId(p: AuditEvent['principal']): string | null {
  switch (p.kind) {
    case 'archive-reader':
      return null;
    case 'organisation':
      return p.organisationId;
    case 'share-link':
      return p.shareLinkId;
    case 'dicom-peer':
      return p.callingAETitle;
    default:
      return p.accountId;
  }
}

function toRow(event: AuditEvent): Row {
  return {
    at: new Date().toISOString(),
    action: event.action,
    actor_kind: event.principal.kind,
    actor_id: actorId(event.principal),
    via: event.via,
    outcome: event.outcome,
    patient_key: event.patientKey ?? null,
    study_instance_uid: event.StudyInstanceUID ?? null,
    series_instance_uid: event.SeriesInstanceUID ?? null,
    sop_instance_uid: event.SOPInstanceUID ?? null,
    detail: event.detail ?? null,
    studies: event.records ? event.records.map((r) => r.StudyInstanceUID) : null,
    series: event.records?.some((r) => r.SeriesInstanceUID)
      ? event.records.map((r) => r.SeriesInstanceUID ?? null)
      : null,
  };
}
