/**
 * What data rights ask of the ingest path (worker/store-instance.ts), after an instance was
 * accepted and spooled: discard it when it belongs to an erased record (tombstone), and store it in
 * its patient's region. The sender has already been answered (C-STORE Success, STOW-RS 200): an
 * acknowledged instance is durable in the spool, and what happens next is the archive's decision.
 */
import type { IndexedAttributes, TombstoneProbe } from '../archive/index-store.js';
import type { SqlQueryable } from '../archive/sql-client.js';
import type { Tombstones } from './erasure/tombstones.js';
import { regionKeyPrefix, regionOfPatient } from './regions.js';

export interface IngestPolicy {
  /**
   * The tombstone hashes of this instance, for IndexStore.beginInstance to check as it claims it:
   * an instance of an erased record is discarded (dropped from the spool, stored nowhere).
   */
  tombstones(attributes: IndexedAttributes): TombstoneProbe;
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
    tombstones: (a) => tombstones.probe(a),
    wasDiscarded: (uid) => tombstones.isBuried(sql, uid),
    objectKeyPrefix: async (a) =>
      deps.regionsConfigured
        ? regionKeyPrefix(await regionOfPatient(sql, a.IssuerOfPatientID, a.PatientID))
        : '',
  };
}
