/**
 * Tombstones: what an erasure leaves so that a re-send does not resurrect the record. Only keyed
 * hashes are kept (HMAC-SHA-256 with dataRights.tombstoneKey, or SHA-256 without one), of the
 * patient identity (IssuerOfPatientID + PatientID) and of every erased StudyInstanceUID and
 * SOPInstanceUID. The ingest path checks them (`probe()`) as it claims an instance, before it stores it.
 */
import { createHash, createHmac } from 'node:crypto';
import type { TombstoneProbe } from '../../archive/index-store.js';
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
   * The hashes an instance is checked against as the ingest claims it (IndexStore.beginInstance,
   * in its claim statement): its SOPInstanceUID, its study and, with discardErasedPatients, its
   * patient identity. A match discards it, counted once on the most specific tombstone, and buries
   * its SOPInstanceUID too, so that a re-run of the same job (its spool entry already gone) can
   * tell "discarded" from "lost" (isBuried).
   */
  probe(subject: TombstoneSubject): TombstoneProbe {
    return {
      instance: this.hash('instance', subject.SOPInstanceUID),
      study: this.hash('study', subject.StudyInstanceUID),
      patient: this.options.discardErasedPatients
        ? this.patientIdentity(subject.IssuerOfPatientID, subject.PatientID)
        : null,
    };
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
