/**
 * The audit trail port: every query, retrieve, store, grant change, export and deletion is recorded
 * as one AuditEvent (who, what, when, how). A patient can read the events about their own records.
 * Events go to the index database, not to logs: logs carry no patient data.
 */
import type { Principal } from '../grants/principal.js';

export type AuditAction =
  | 'query'
  | 'retrieve'
  | 'store'
  | 'grant-create'
  | 'grant-revoke'
  | 'share-link-create'
  | 'share-link-revoke'
  | 'share-link-unlock'
  | 'sign-in'
  | 'export'
  | 'erasure'
  | 'restriction'
  | 'rectification'
  | 'deidentified-share';

/** How the access happened. */
export type AuditChannel = 'dicomweb' | 'share-link' | 'dimse' | 'api' | 'portal' | 'cli';

/** A DIMSE peer whose Calling AE Title belongs to no organisation (C-STORE is open to it). */
export interface DicomPeer {
  kind: 'dicom-peer';
  callingAETitle: string;
}

export interface AuditEvent {
  action: AuditAction;
  principal: Principal | DicomPeer;
  via: AuditChannel;
  outcome: 'ok' | 'denied' | 'error';
  /** What was touched, as precisely as known. */
  patientKey?: string;
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
  SOPInstanceUID?: string;
  /**
   * Every record a search found (QIDO-RS, C-FIND), in the order returned: one event for the search,
   * not one per record. Each patient reads only the entries of their own records.
   */
  records?: readonly AuditRecord[];
  /** Small, PHI-free details (counts, grant id, query keys used, never their values). */
  detail?: Record<string, unknown>;
}

/** A study, or a series of it, named by a search event. */
export interface AuditRecord {
  StudyInstanceUID: string;
  SeriesInstanceUID?: string;
}

export interface AuditLog {
  /**
   * Records one event. Never blocks the request it describes for long and never throws into it;
   * implementations batch writes and report their own failures to the log.
   */
  record(event: AuditEvent): void;
  /** Waits until every recorded event is durable (tests, shutdown). */
  flush(): Promise<void>;
}
