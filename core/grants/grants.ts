/**
 * Default deny, in one place: who may read which study. Every DICOMweb resource asks canRead (or, for
 * a search, studyScope) before it touches the index or the object store, and answers 404 for "absent"
 * and "not granted" alike (PS3.18 gives no way to say "exists, but not for you" without leaking it).
 *
 * Interim: the only principal is the archive reader of the configured API token, who reads every
 * study. The grants issue replaces this with patient-issued grants (JWTs); the seam is this module:
 * a Principal type and one canRead.
 */

import type { Principal } from './principal.js';

export type { Principal } from './principal.js';

/** Which studies a principal may see in a search: all of them, or exactly these. */
export type StudyScope = { all: true } | { all: false; StudyInstanceUIDs: readonly string[] };

/** True only when a grant of `principal` covers the study; false for no principal at all. */
export function canRead(principal: Principal | undefined, StudyInstanceUID: string): boolean {
  if (!principal || StudyInstanceUID === '') return false;
  switch (principal.kind) {
    case 'archive-reader':
      return true;
    default:
      return false;
  }
}

/**
 * The studies a search may return, as a filter the index applies in SQL (so that limit and offset
 * count only what the principal may see). Must agree with canRead.
 */
export function studyScope(principal: Principal | undefined): StudyScope {
  if (principal?.kind === 'archive-reader') return { all: true };
  return { all: false, StudyInstanceUIDs: [] };
}

/** STOW-RS: who may add instances. The archive reader token is the archive's operator credential. */
export function canStore(principal: Principal | undefined): boolean {
  return principal?.kind === 'archive-reader';
}
