/**
 * Default deny, in one place: who may read which study. Every DICOMweb resource asks canRead or
 * readableSeries (or, for a search, studyScope) before it touches the object store, and answers 404
 * for "absent" and "not granted" alike (PS3.18 gives no way to say "exists, but not for you"
 * without leaking it).
 *
 * - archive reader (the API token): every study;
 * - patient: the studies of the patient records linked to the account, present and future;
 * - doctor, share link: what their live grants cover (a patient record: all its studies, including
 *   later ones; a study; a series: that series only);
 * - organisation: the studies it sent;
 * - organisation-admin, platform-admin, no principal: nothing.
 *
 * Nothing is cached: each answer is one SQL statement reading the current grants.
 */
import type { SqlQueryable } from '../archive/sql-client.js';
import type { Principal } from './principal.js';
import { studyScope, type Access } from './scope.js';
import { scopeSql } from './scope-sql.js';

export type { Principal } from './principal.js';
export { studyScope, type Access, type StudyScope } from './scope.js';

export class AccessControl {
  constructor(private readonly sql: SqlQueryable) {}

  /** True only when the study exists and the principal may access it (any of its series). */
  async canRead(
    principal: Principal | undefined,
    StudyInstanceUID: string,
    access: Access = 'read',
  ): Promise<boolean> {
    if (!principal || StudyInstanceUID === '') return false;
    const params: unknown[] = [StudyInstanceUID];
    const condition = scopeSql(studyScope(principal, access), (v) => `$${params.push(v)}`, false);
    const rows = await this.sql.query(
      `SELECT 1 FROM study s WHERE s.study_instance_uid = $1 ${condition ? `AND ${condition}` : ''}`,
      params,
    );
    return rows.length > 0;
  }

  /**
   * The series of a study the principal may access, [] when none (or no such study). A retrieve
   * narrows to these, so that a series grant never serves a sibling series.
   */
  async readableSeries(
    principal: Principal | undefined,
    StudyInstanceUID: string,
    access: Access = 'read',
  ): Promise<string[]> {
    if (!principal || StudyInstanceUID === '') return [];
    const params: unknown[] = [StudyInstanceUID];
    const condition = scopeSql(studyScope(principal, access), (v) => `$${params.push(v)}`, true);
    const rows = await this.sql.query<{ series_instance_uid: string }>(
      `SELECT se.series_instance_uid FROM series se
       JOIN study s ON s.study_instance_uid = se.study_instance_uid
       WHERE s.study_instance_uid = $1 ${condition ? `AND ${condition}` : ''}`,
      params,
    );
    return rows.map((row) => row.series_instance_uid);
  }
}

/**
 * STOW-RS: who may add instances. The archive reader (the operator's integrations) and an
 * organisation (its studies are then its own); nobody else.
 */
export function canStore(principal: Principal | undefined): boolean {
  return principal?.kind === 'archive-reader' || principal?.kind === 'organisation';
}
