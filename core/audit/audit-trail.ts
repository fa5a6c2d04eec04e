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
    const rows = await this.sql.query(
      `SELECT e.at, e.action, e.actor_kind, e.actor_id, e.via, e.outcome,
              e.study_instance_uid, e.series_instance_uid, a.display_name
       FROM audit_event e
       LEFT JOIN account a ON a.account_id = e.actor_id
         AND e.actor_kind IN ('patient', 'doctor', 'organisation-admin', 'platform-admin')
       WHERE e.patient_key IN (SELECT l.patient_key FROM patient_record_link l
                               WHERE l.account_id = $1)
       ORDER BY e.at DESC, e.audit_id DESC LIMIT $2 OFFSET $3`,
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
