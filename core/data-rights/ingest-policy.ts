/**
 * What data rights ask of the ingest path (worker/store-instance.ts), after an instance was
 * accepted and spooled: discard it when it belongs to an erased record (tombstone), and store it in
 * its patient's region. The sender has already been answered (C-STORE Success, STOW-RS 200): an
 * acknowledged instance is durable in the spool, and what happens next is the archive's decision.
 */
import type { IndexedAttributes } from '../archive/index-store.js';
import type { SqlQueryable } from '../archive/sql-client.js';
import type { Tombstones } from './erasure/tombstones.js';
import { regionKeyPrefix, regionOfPatient } from './regions.js';

export interface IngestPolicy {
  /** True: the instance is of an erased record; the caller drops it from the spool, stores nothing. */
  discard(attributes: IndexedAttributes): Promise<boolean>;
  /** True when a SOPInstanceUID was erased or discarded (a re-run job whose spool entry is gone). */
  wasDiscarded(SOPInstanceUID: string): Promise<boolean>;
  /** Prepended to the object key: the patient's region, '' for the default store. */
  objectKeyPrefix(attributes: IndexedAttributes): Promise<string>;
}

export function createIngestPolicy(deps: {
  sql: SqlQueryable;
  tombstones: Tombstones;
  regionsConfigured: boolean;
}): IngestPolicy {
  const { sql, tombstones } = deps;
  return {
    discard: (a) => tombstones.discard(sql, a),
    wasDiscarded: (uid) => tombstones.isBuried(sql, uid),
    objectKeyPrefix: async (a) =>
      deps.regionsConfigured
        ? regionKeyPrefix(await regionOfPatient(sql, a.IssuerOfPatientID, a.PatientID))
        : '',
  };
}
