/**
 * What a principal may see, as a value the index turns into SQL (scope-sql.ts). Computed from the
 * principal alone, with no lookup and no cache: the grants, links and revocations it depends on are
 * read by the very statement that answers the request, so a revocation counts from the next
 * statement on.
 */
import type { Principal } from './principal.js';

/**
 * 'read': search (QIDO-RS), metadata, rendered images, thumbnails, frames and bulk data, i.e. what a
 * viewer needs to display. 'download': also the stored Part 10 files (WADO-RS retrieve of a study,
 * series or instance, WADO-URI application/dicom) and exports.
 */
export type Access = 'read' | 'download';

export type StudyScope =
  /** Every study (the archive reader). */
  | { kind: 'all' }
  /** No study (no principal, administrators). */
  | { kind: 'none' }
  /** The studies of the patient records linked to this patient account. */
  | { kind: 'patient'; accountId: string }
  /** What the live grants to this doctor account or share link cover, at `access` or above. */
  | { kind: 'grantee'; grantee: 'account' | 'share-link'; id: string; access: Access }
  /** The studies this organisation sent. */
  | { kind: 'organisation'; organisationId: string };

/** The scope of a principal for an access level. Default deny: anything unknown sees nothing. */
export function studyScope(principal: Principal | undefined, access: Access = 'read'): StudyScope {
  switch (principal?.kind) {
    case 'archive-reader':
      return { kind: 'all' };
    case 'patient':
      return { kind: 'patient', accountId: principal.accountId };
    case 'doctor':
      return { kind: 'grantee', grantee: 'account', id: principal.accountId, access };
    case 'share-link':
      return { kind: 'grantee', grantee: 'share-link', id: principal.shareLinkId, access };
    case 'organisation':
      return { kind: 'organisation', organisationId: principal.organisationId };
    default:
      return { kind: 'none' };
  }
}
