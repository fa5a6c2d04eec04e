/**
 * C-STORE SCP (PS3.4 Annex B). Reads top to bottom:
 *   openReception: the data set streams, as received in the negotiated transfer syntax, into a spool
 *     file that starts with our File Meta Information (PS3.10 §7.1);
 *   cStore: after the last fragment: fsync → validate header → rename → enqueue → Success.
 * Any failure → the status from dimse-status.ts, never a false Success.
 */
import type { Socket } from 'node:net';
import { encodeFileMetaInformation } from '../core/dicom/part10-meta.js';
import { isValidUID, trimUID } from '../core/dicom/uid.js';
import { acceptInstance } from '../core/ingest/accept-instance.js';
import type { IngestQueue } from '../core/queue/ingest-queue.js';
import type { Spool } from '../core/spool/spool.js';
import type { SpoolWriter } from '../core/spool/spool-writer.js';
import { LightboxError } from '../core/errors.js';
import { CStoreStatus, cStoreFailure, type DimseFailure } from './dimse-status.js';

export interface CStoreCommand {
  AffectedSOPClassUID: string;
  AffectedSOPInstanceUID: string;
}

export interface Reception {
  writer: SpoolWriter;
  command: CStoreCommand;
}

/**
 * Opens the spool file for one C-STORE data set. dcmjs-dimse writes each PDV into the returned stream
 * and never pauses the socket: here the socket is paused whenever the spool's buffer is full and
 * resumed on drain (and on finish/close, so a failed or ended reception can never leave it paused).
 */
export function openReception(
  spool: Spool,
  socket: Socket,
  command: CStoreCommand,
  transferSyntaxUID: string,
  callingAETitle: string,
  maxInstanceBytes: number,
): Reception {
  const meta = encodeFileMetaInformation({
    MediaStorageSOPClassUID: command.AffectedSOPClassUID,
    MediaStorageSOPInstanceUID: command.AffectedSOPInstanceUID,
    TransferSyntaxUID: transferSyntaxUID,
    SourceApplicationEntityTitle: callingAETitle,
  });
  const writer = spool.open(maxInstanceBytes + meta.length);
  const resume = () => {
    if (socket.isPaused()) socket.resume();
  };
  writer.on('drain', resume);
  writer.once('finish', resume);
  writer.once('close', resume);
  const write = writer.write.bind(writer) as (chunk: Buffer) => boolean;
  // The library awaits 'drain' itself on a false return for the first fragment only, and then
  // processes later PDUs concurrently; answering true and pausing the socket keeps ordering simple.
  writer.write = ((chunk: Buffer) => {
    if (!write(chunk)) socket.pause();
    return true;
  }) as typeof writer.write;
  write(meta);
  return { writer, command };
}

/** Reads the Affected SOP Class/Instance UIDs of a C-STORE-RQ, UI padding removed. */
export function cStoreCommand(request: {
  getAffectedSopClassUid(): string;
  getAffectedSopInstanceUid(): string;
}): CStoreCommand {
  return {
    AffectedSOPClassUID: trimUID(String(request.getAffectedSopClassUid() ?? '')),
    AffectedSOPInstanceUID: trimUID(String(request.getAffectedSopInstanceUid() ?? '')),
  };
}

export type CStoreOutcome = { status: typeof CStoreStatus.Success } | DimseFailure;

/** Completes a reception: Success only once the instance is spooled durably and queued. */
export async function cStore(
  reception: Reception | undefined,
  callingAETitle: string,
  queue: IngestQueue,
): Promise<CStoreOutcome> {
  if (!reception) {
    return cStoreFailure(new LightboxError('InvalidDataset', 'C-STORE without a data set'));
  }
  const { writer, command } = reception;
  try {
    if (!isValidUID(command.AffectedSOPClassUID) || !isValidUID(command.AffectedSOPInstanceUID)) {
      throw new LightboxError('InvalidUID', 'Affected SOP Class/Instance UID is not a valid UID');
    }
    // The meta group carries the command's Affected SOP Class/Instance UIDs: the header check in
    // acceptInstance refuses a data set that says otherwise (0xA900, PS3.4 B.2.3).
    await acceptInstance(writer, { callingAETitle }, queue);
    return { status: CStoreStatus.Success };
  } catch (error) {
    await writer.abort();
    return cStoreFailure(error);
  }
}
