/**
 * One ingest job: spooled Part 10 file → object store (bytes unchanged) → index. Follows begin → store
 * bytes → complete, so that a worker killed at any point leaves a state the re-run finishes:
 *   begin     claims the SOPInstanceUID for these bytes (a pending index row), or finds it done,
 *             or finds a tombstone: an erased record re-sent is discarded (spool entry removed);
 *   store     puts the spool file at the object key (a hard link on a local store: no copy), its
 *             SHA-256 being the one the gateway computed while receiving the bytes it acknowledged;
 *   complete  one transaction: patient, study, series, instance → stored; then the spool entry goes.
 * Same SOPInstanceUID with other bytes: the first stays, the new bytes are kept under conflicts/ and a
 * conflict is recorded. Nothing acknowledged is ever dropped or overwritten.
 */
import type { OrganisationConfig } from '../config/schema.js';
import { organisationOfCallingAETitle } from '../core/grants/organisations.js';
import { conflictObjectKey, objectKey, type ObjectStore } from '../core/archive/object-store.js';
import type { IndexStore, StoredObject } from '../core/archive/index-store.js';
import type { IngestPolicy } from '../core/data-rights/ingest-policy.js';
import { extractIndexedAttributes } from '../core/dicom/attributes.js';
import { readPart10Header } from '../core/dicom/part10-header.js';
import { isLightboxError, LightboxError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { IngestJob } from '../core/queue/ingest-queue.js';
import type { Spool } from '../core/spool/spool.js';

export interface StoreInstanceDependencies {
  /** config `organisations`: maps a C-STORE's Calling AE Title to the study's organisation. */
  organisations?: readonly OrganisationConfig[];
  spool: Spool;
  objects: ObjectStore;
  index: IndexStore;
  log: Logger;
  /** Data rights: tombstones of erased records and region placement (core/data-rights). */
  ingestPolicy?: IngestPolicy;
}

export type StoreOutcome = 'stored' | 'duplicate' | 'conflict' | 'already-archived' | 'discarded';

export async function storeInstance(
  job: IngestJob,
  deps: StoreInstanceDependencies,
): Promise<StoreOutcome> {
  const { spool, index } = deps;
  const file = spool.readyPath(job.spoolName);
  // The receiver's parse of these bytes when it ran in this process; else the spool file's.
  const header = job.header ?? (await readPart10Header(file).catch(absentSpoolEntry));
  if (!header) return alreadyArchived(job, deps);
  const attributes = extractIndexedAttributes(header);
  if (attributes.SOPInstanceUID !== job.SOPInstanceUID) {
    throw new LightboxError('InvalidDataset', 'spool entry does not hold the queued instance');
  }
  const prefix = (await deps.ingestPolicy?.objectKeyPrefix(attributes)) ?? '';
  const object: StoredObject = {
    SOPInstanceUID: attributes.SOPInstanceUID,
    TransferSyntaxUID: header.meta.TransferSyntaxUID,
    objectKey: prefix + objectKey(attributes),
    size: job.size,
    sha256: job.sha256,
    callingAETitle: job.callingAETitle,
    receivedAt: job.receivedAt,
    organisationId:
      job.organisationId ??
      organisationOfCallingAETitle(deps.organisations ?? [], job.callingAETitle),
  };

  const outcome = await index.beginInstance(
    { ...object, SOPClassUID: attributes.SOPClassUID },
    deps.ingestPolicy?.tombstones(attributes),
  );
  switch (outcome) {
    case 'discarded':
      // An erased record re-sent: acknowledged already, kept nowhere (neither spool nor store).
      await spool.remove(job.spoolName);
      deps.log.info({ bytes: job.size }, 'instance of an erased record discarded');
      return 'discarded';
    case 'duplicate':
      await spool.remove(job.spoolName);
      return 'duplicate';
    case 'conflict': {
      const conflict = {
        ...object,
        objectKey: prefix + conflictObjectKey(object.SOPInstanceUID, object.sha256),
      };
      if (!(await putSpooledFile(deps, conflict.objectKey, file, conflict.size))) {
        return alreadyArchived(job, deps);
      }
      await index.recordConflict(conflict);
      await spool.remove(job.spoolName);
      deps.log.warn(
        { sha256: job.sha256 },
        'SOP Instance UID re-sent with other bytes: kept first',
      );
      return 'conflict';
    }
    case 'new':
    case 'resume':
      if (!(await putSpooledFile(deps, object.objectKey, file, object.size))) {
        return alreadyArchived(job, deps);
      }
      await index.completeInstance(object, attributes, header.dataset);
      await spool.remove(job.spoolName);
      return 'stored';
  }
}

/** undefined for a spool entry that is gone; other errors pass. */
function absentSpoolEntry(error: unknown): undefined {
  if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
  throw error;
}

/** Stores the spool file at `key`; false when the spool entry is gone. */
async function putSpooledFile(
  deps: StoreInstanceDependencies,
  key: string,
  file: string,
  size: number,
): Promise<boolean> {
  try {
    await deps.objects.putFile(key, file, size);
    return true;
  } catch (error) {
    if (isLightboxError(error, 'NotFound')) return false;
    throw error;
  }
}

/**
 * The spool entry is gone: an identical earlier job (same bytes, same name) archived and removed it.
 * That is success only if the index holds exactly these bytes, as the instance or as a conflict
 * (the same bytes re-sent while an earlier job was keeping them aside: that job removed the entry
 * both had renamed into ready/); anything else would be a lost instance.
 */
async function alreadyArchived(
  job: IngestJob,
  deps: StoreInstanceDependencies,
): Promise<StoreOutcome> {
  const row = await deps.index.getInstance(job.SOPInstanceUID);
  if (row?.state === 'stored' && row.sha256 === job.sha256) return 'already-archived';
  if (row && (await deps.index.hasConflict(job.SOPInstanceUID, job.sha256))) {
    return 'already-archived';
  }
  if (!row && (await deps.ingestPolicy?.wasDiscarded(job.SOPInstanceUID))) return 'discarded';
  throw new LightboxError('NotFound', 'spool entry missing and instance not archived');
}
