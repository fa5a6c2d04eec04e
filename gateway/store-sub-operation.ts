/**
 * One C-STORE sub-operation of a C-MOVE or C-GET (PS3.4 §C.4.2.2, §C.4.3.2): the stored object's
 * data set, byte for byte as archived, over a presentation context that was accepted for its SOP
 * Class in its stored transfer syntax. No context → the sub-operation fails: Lightbox never
 * transcodes.
 */
import dimse from 'dcmjs-dimse';
import type { StoredInstance } from '../core/archive/index-store.js';
import { readObjectRange } from '../core/archive/object-source.js';
import type { ObjectStore } from '../core/archive/object-store.js';
import { decodeFileMetaInformation } from '../core/dicom/part10-meta.js';
import { LightboxError } from '../core/errors.js';
import { encodeCStoreRQ } from './dimse-command.js';
import type { DimseConnection } from './dimse-connection.js';

const { PresentationContextResult } = dimse.constants;

/** The File Meta Information group is almost always far below this. */
const HEAD_BYTES = 64 * 1024;

type Association = NonNullable<DimseConnection['negotiated']>;

/**
 * The accepted context for this SOP Class in this transfer syntax; with `requesterIsSCP` (C-GET),
 * only a context for which the requester took the SCP role (PS3.7 §D.3.3.4).
 */
export function storeContextId(
  association: Association,
  instance: Pick<StoredInstance, 'SOPClassUID' | 'TransferSyntaxUID'>,
  requesterIsSCP = false,
): number | undefined {
  for (const { id, context } of association.getPresentationContexts()) {
    if (context.getResult() !== PresentationContextResult.Accept) continue;
    if (context.getAbstractSyntaxUid() !== instance.SOPClassUID) continue;
    if (context.getAcceptedTransferSyntaxUid() !== instance.TransferSyntaxUID) continue;
    if (requesterIsSCP && !context.getProviderRole()) continue;
    return id;
  }
  return undefined;
}

export interface SubOperationOptions {
  timeoutMs: number;
  /** C-GET: only contexts for which the requester took the SCP role. */
  requesterIsSCP?: boolean;
  /** C-MOVE: the requester's AE title and message ID (PS3.7 §9.3.1.1). */
  moveOriginator?: { aeTitle: string; messageId: number };
}

/**
 * Sends one instance and resolves with the C-STORE-RSP status; NotAcceptable when no accepted
 * context carries its SOP Class in its stored transfer syntax.
 */
export async function storeSubOperation(
  connection: DimseConnection,
  objects: ObjectStore,
  instance: StoredInstance,
  options: SubOperationOptions,
): Promise<number> {
  const contextId = storeContextId(connection.negotiated!, instance, options.requesterIsSCP);
  if (contextId === undefined) {
    throw new LightboxError(
      'NotAcceptable',
      'no accepted context for the stored SOP Class and transfer syntax',
    );
  }
  const head = await readObjectRange(
    objects,
    instance.objectKey,
    0,
    Math.min(instance.size, HEAD_BYTES) - 1,
  );
  const { meta, datasetOffset } = decodeFileMetaInformation(head);
  if (meta.TransferSyntaxUID !== instance.TransferSyntaxUID) {
    throw new LightboxError('Internal', 'stored object and index disagree on the transfer syntax');
  }
  const MessageID = connection.nextMessageId();
  const command = encodeCStoreRQ({
    MessageID,
    AffectedSOPClassUID: instance.SOPClassUID,
    AffectedSOPInstanceUID: instance.SOPInstanceUID,
    MoveOriginatorApplicationEntityTitle: options.moveOriginator?.aeTitle,
    MoveOriginatorMessageID: options.moveOriginator?.messageId,
  });
  const response = connection.awaitResponse(MessageID, options.timeoutMs);
  response.catch(() => undefined); // observed below; a send failure must not leave it unhandled
  const body =
    datasetOffset < instance.size
      ? await objects.getObject(instance.objectKey, {
          start: datasetOffset,
          end: instance.size - 1,
        })
      : undefined;
  await connection.sendMessage(contextId, command, body);
  return (await response).getStatus();
}
