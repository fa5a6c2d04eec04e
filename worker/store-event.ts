/**
 * The audit event of one archived instance (one per instance, for C-STORE and STOW-RS alike,
 * written once the index holds it, so that it is attributed to its patient record). Who: the
 * organisation of the Calling AE Title, or the AE title itself when it belongs to none (C-STORE);
 * the organisation or the archive reader that posted it (STOW-RS, the only two that may).
 */
import type { OrganisationConfig } from '../config/schema.js';
import type { AuditEvent } from '../core/audit/audit-log.js';
import { principalOfCallingAETitle } from '../core/grants/organisations.js';
import type { IngestJob } from '../core/queue/ingest-queue.js';
import type { StoreOutcome } from './store-instance.js';

export function storeEvent(
  job: IngestJob,
  outcome: StoreOutcome,
  organisations: readonly OrganisationConfig[],
): AuditEvent {
  const dimse = job.callingAETitle !== '';
  const principal: AuditEvent['principal'] = dimse
    ? (principalOfCallingAETitle(organisations, job.callingAETitle) ?? {
        kind: 'dicom-peer',
        callingAETitle: job.callingAETitle.trim(),
      })
    : job.organisationId
      ? { kind: 'organisation', organisationId: job.organisationId }
      : { kind: 'archive-reader' };
  return {
    action: 'store',
    principal,
    via: dimse ? 'dimse' : 'dicomweb',
    outcome: outcome === 'conflict' ? 'error' : 'ok',
    SOPInstanceUID: job.SOPInstanceUID,
    detail: { outcome, bytes: job.size },
  };
}
