/**
 * A StudyScope as a SQL condition over the aliases `s` (study) and, at series and instance level,
 * `se` (series), so that searches filter before LIMIT/OFFSET and retrieves never see what is not
 * granted. Schema: migrations/0002_accounts_grants_audit.sql.
 *
 * A grant counts while it is live (not revoked, not expired: now() of the statement), while its
 * grantor is still linked to the patient record, and while the study still belongs to that record.
 * A share link's grant also needs the link itself live. A series grant covers that series only.
 * Grants and organisations never see a restricted record (GDPR art. 18, core/data-rights/
 * restriction.ts); the patient and the archive reader still do.
 */
import { unrestrictedSql } from '../data-rights/restriction.js';
import type { StudyScope } from './scope.js';

export type Param = (value: unknown) => string;

const LIVE = (alias: string) =>
  `${alias}.revoked_at IS NULL AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;

/**
 * The condition, or undefined when the scope sees everything. `seriesLevel`: the statement has a
 * `se` alias and a series grant must narrow to it (series and instance searches, retrieves); at
 * study level a series grant makes its study visible.
 */
export function scopeSql(
  scope: StudyScope,
  param: Param,
  seriesLevel: boolean,
): string | undefined {
  switch (scope.kind) {
    case 'all':
      return undefined;
    case 'none':
      return 'false';
    case 'patient':
      return `s.patient_key IN (SELECT l.patient_key FROM patient_record_link l
                                WHERE l.account_id = ${param(scope.accountId)})`;
    case 'organisation':
      return `s.organisation_id = ${param(scope.organisationId)} AND ${unrestrictedSql('s.patient_key')}`;
    case 'grantee': {
      const column = scope.grantee === 'account' ? 'grantee_account_id' : 'grantee_share_link_id';
      const link =
        scope.grantee === 'share-link'
          ? `AND EXISTS (SELECT 1 FROM share_link sl
                         WHERE sl.share_link_id = g.grantee_share_link_id AND ${LIVE('sl')})`
          : '';
      return `EXISTS (SELECT 1 FROM access_grant g
        JOIN patient_record_link gl
          ON gl.account_id = g.grantor_account_id AND gl.patient_key = g.patient_key
        WHERE g.${column} = ${param(scope.id)} AND ${LIVE('g')}
          ${scope.access === 'download' ? `AND g.access = 'download'` : ''}
          AND g.patient_key = s.patient_key
          AND (g.study_instance_uid IS NULL OR g.study_instance_uid = s.study_instance_uid)
          ${seriesLevel ? 'AND (g.series_instance_uid IS NULL OR g.series_instance_uid = se.series_instance_uid)' : ''}
          ${link}) AND ${unrestrictedSql('s.patient_key')}`;
    }
  }
}
