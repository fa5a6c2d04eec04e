/**
 * Reading the audit trail: a patient reads the events on their own records (GET /api/audit), newest
 * first. Actors are shown by kind and display name (an organisation by its configured name), never
 * by another patient's identity.
 */
import type { OrganisationConfig } from '../../config/schema.js';
import type { SqlQueryable } from '../archive/sql-client.js';

export interface AuditEntry {
  at: string;
  action: string;
  actor: { kind: string; displayName: string };
  via: string;
  outcome: string;
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
}

const FIXED_NAMES: Record<string, string> = {
  'archive-reader': 'Archive integration',
  'share-link': 'Share link',
};

export class AuditTrail {
  constructor(
    private readonly sql: SqlQueryable,
    private readonly organisations: readonly OrganisationConfig[],
  ) {}

  /** Events on the patient records linked to a patient account. */
  async forPatient(accountId: string, limit: number, offset: number): Promise<AuditEntry[]> {
    // An event names one record (patient_key) or, for a search, many (patient_keys, aligned with
    // study_instance_uids and series_instance_uids, migration 0008): a search is read as one entry
    // per record of this patient's, never showing the other records it found.
    const rows = await this.sql.query(
      `WITH mine AS (SELECT COALESCE(array_agg(l.patient_key), '{}') AS keys
                     FROM patient_record_link l WHERE l.account_id = $1)
       SELECT e.at, e.action, e.actor_kind, e.actor_id, e.via, e.outcome,
              r.study_instance_uid, r.series_instance_uid, a.display_name
       FROM mine, audit_event e
       CROSS JOIN LATERAL (
         SELECT e.study_instance_uid, e.series_instance_uid, 0::bigint AS n
         WHERE e.patient_keys IS NULL
         UNION ALL
         SELECT t.study, t.series, t.n
         FROM unnest(e.study_instance_uids, e.series_instance_uids, e.patient_keys)
              WITH ORDINALITY AS t(study, series, patient_key, n)
         WHERE t.patient_key = ANY(mine.keys)) r
       LEFT JOIN account a ON a.account_id = e.actor_id
         AND e.actor_kind IN ('patient', 'doctor', 'organisation-admin', 'platform-admin')
       WHERE e.patient_key = ANY(mine.keys) OR e.patient_keys && mine.keys
       ORDER BY e.at DESC, e.audit_id DESC, r.n LIMIT $2 OFFSET $3`,
      [accountId, limit, offset],
    );
    return rows.map((row) => {
      const entry: AuditEntry = {
        at: new Date(row.at as string).toISOString(),
        action: row.action as string,
        actor: { kind: row.actor_kind as string, displayName: this.nameOf(row) },
        via: row.via as string,
        outcome: row.outcome as string,
      };
      if (row.study_instance_uid) entry.StudyInstanceUID = row.study_instance_uid as string;
      if (row.series_instance_uid) entry.SeriesInstanceUID = row.series_instance_uid as string;
      return entry;
    });
  }

  private nameOf(row: Record<string, unknown>): string {
    const kind = row.actor_kind as string;
    if (row.display_name) return row.display_name as string;
    if (kind === 'organisation' || kind === 'dicom-peer') {
      const org = this.organisations.find((o) => o.id === row.actor_id);
      return (
        org?.name ?? (kind === 'dicom-peer' ? `DICOM peer ${String(row.actor_id)}` : 'Organisation')
      );
    }
    return FIXED_NAMES[kind] ?? kind;
  }
}
