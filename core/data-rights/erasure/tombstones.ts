/**
 * Tombstones: what an erasure leaves so that a re-send does not resurrect the record. Only keyed
 * hashes are kept (HMAC-SHA-256 with dataRights.tombstoneKey, or SHA-256 without one), of the
 * patient identity (IssuerOfPatientID + PatientID) and of every erased StudyInstanceUID and
 * SOPInstanceUID. The ingest path asks `discard()` before it stores an instance.
 */
import { createHash, createHmac } from 'node:crypto';
import type { SqlQueryable } from '../../archive/sql-client.js';

export type TombstoneKind = 'patient' | 'study' | 'instance';

export interface TombstoneSubject {
  IssuerOfPatientID: string;
  PatientID: string;
  StudyInstanceUID: string;
  SOPInstanceUID: string;
}

export class Tombstones {
  constructor(private readonly options: { key?: string; discardErasedPatients: boolean }) {}

  /** The hash kept for a value; the kind is part of the input so kinds never collide. */
  hash(kind: TombstoneKind, value: string): string {
    const input = `lightbox-tombstone\n${kind}\n${value}`;
    return this.options.key
      ? createHmac('sha256', this.options.key).update(input).digest('hex')
      : createHash('sha256').update(input).digest('hex');
  }

  patientIdentity(IssuerOfPatientID: string, PatientID: string): string {
    return this.hash('patient', `${IssuerOfPatientID}\\${PatientID}`);
  }

  /** Adds tombstones (idempotent: a resumed erasure inserts them again). */
  async bury(
    sql: SqlQueryable,
    erasureId: string,
    kind: TombstoneKind,
    values: readonly string[],
  ): Promise<void> {
    const hashes = values.map((v) => (kind === 'patient' ? v : this.hash(kind, v)));
    for (let i = 0; i < hashes.length; i += 5000) {
      await sql.query(
        `INSERT INTO erasure_tombstone (kind, hash, erasure_id)
         SELECT $1, h, $2 FROM unnest($3::text[]) AS h ON CONFLICT (kind, hash) DO NOTHING`,
        [kind, erasureId, hashes.slice(i, i + 5000)],
      );
    }
  }

  /**
   * True when the instance belongs to an erased study or is an erased instance (or, with
   * discardErasedPatients, an erased patient's): the caller discards it. Counts the discard once,
   * on the most specific tombstone it matched, in the same statement.
   */
  async discard(sql: SqlQueryable, subject: TombstoneSubject): Promise<boolean> {
    const rows = await sql.query(
      `WITH hit AS (
         SELECT kind, hash FROM erasure_tombstone
         WHERE (kind = 'instance' AND hash = $1) OR (kind = 'study' AND hash = $2)
            OR ($4 AND kind = 'patient' AND hash = $3)
         ORDER BY CASE kind WHEN 'instance' THEN 0 WHEN 'study' THEN 1 ELSE 2 END LIMIT 1)
       UPDATE erasure_tombstone t SET discarded = t.discarded + 1
       FROM hit WHERE t.kind = hit.kind AND t.hash = hit.hash
       RETURNING t.kind, t.erasure_id`,
      [
        this.hash('instance', subject.SOPInstanceUID),
        this.hash('study', subject.StudyInstanceUID),
        this.patientIdentity(subject.IssuerOfPatientID, subject.PatientID),
        this.options.discardErasedPatients,
      ],
    );
    if (rows.length === 0) return false;
    // The discarded SOPInstanceUID is buried too, so that a re-run of the same job (its spool entry
    // already gone) can tell "discarded" from "lost".
    await this.bury(sql, rows[0].erasure_id as string, 'instance', [subject.SOPInstanceUID]);
    return true;
  }

  /** True when this SOPInstanceUID was erased or discarded. */
  async isBuried(sql: SqlQueryable, SOPInstanceUID: string): Promise<boolean> {
    const rows = await sql.query(
      `SELECT 1 FROM erasure_tombstone WHERE kind = 'instance' AND hash = $1`,
      [this.hash('instance', SOPInstanceUID)],
    );
    return rows.length > 0;
  }

  /** How many re-sent instances were discarded, in total (ops, tests). */
  async discardedCount(sql: SqlQueryable): Promise<number> {
    const [row] = await sql.query(
      `SELECT coalesce(sum(discarded), 0)::bigint AS n FROM erasure_tombstone`,
    );
    return Number(row.n);
  }
}
