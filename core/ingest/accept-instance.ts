/**
 * The one ingest path, shared by C-STORE (gateway) and STOW-RS (viewer-api) so neither entry point can
 * drift away from the other: a reception that has been fully written to the spool is validated from
 * its header, committed (fsync + rename) and queued. Only when this resolves may the sender be told
 * Success; when it throws, nothing the sender could believe stored is left behind.
 */
import { extractIndexedAttributes } from '../dicom/attributes.js';
import { readPart10Header } from '../dicom/part10-header.js';
import type { IngestJob, IngestQueue } from '../queue/ingest-queue.js';
import type { SpoolWriter } from '../spool/spool-writer.js';

export interface AcceptContext {
  /** Calling AE title of the association, '' for STOW-RS. */
  callingAETitle: string;
  /** STOW-RS by an organisation principal: the organisation the study will belong to. */
  organisationId?: string;
}

export interface AcceptedInstance {
  job: IngestJob;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
}

/**
 * Validates, commits and queues a finished reception. The caller must have called `reception.end()`.
 * On failure the reception is aborted (tmp file removed) and a LightboxError is thrown.
 */
export async function acceptInstance(
  reception: SpoolWriter,
  context: AcceptContext,
  queue: IngestQueue,
  now: () => Date = () => new Date(),
): Promise<AcceptedInstance> {
  let job: IngestJob;
  let uids: { StudyInstanceUID: string; SeriesInstanceUID: string };
  try {
    await reception.finished();
    if (reception.error) throw reception.error;
    // The header is parsed from the bytes just written, kept in memory, not read back from disk.
    const header = await readPart10Header(reception.tmpPath, {
      head: { bytes: reception.head, size: reception.bytesReceived },
    });
    const attributes = extractIndexedAttributes(header);
    const spooled = await reception.commit();
    uids = attributes;
    job = {
      ...spooled,
      SOPInstanceUID: attributes.SOPInstanceUID,
      SOPClassUID: attributes.SOPClassUID,
      TransferSyntaxUID: header.meta.TransferSyntaxUID,
      callingAETitle: context.callingAETitle,
      receivedAt: now().toISOString(),
      ...(context.organisationId ? { organisationId: context.organisationId } : {}),
    };
  } catch (error) {
    await reception.abort();
    throw error;
  }
  // The file stays in ready/ if queueing fails: the sender is told to retry, and the worker's
  // reconciliation archives the orphan (idempotently) if the sender does not. Nothing is lost either way.
  await queue.enqueue(job);
  return {
    job,
    StudyInstanceUID: uids.StudyInstanceUID,
    SeriesInstanceUID: uids.SeriesInstanceUID,
  };
}
