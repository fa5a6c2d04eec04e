/**
 * Storage Commitment Push Model SCP (PS3.4 Annex J). N-ACTION (Request Storage Commitment) is
 * answered at once; the result follows as an N-EVENT-REPORT: on the same association while it is
 * open and not being released, otherwise on a new association to the requester's configured peer
 * address (Lightbox proposing the SCP role, PS3.4 §J.3.3). An instance is committed when it is stored and indexed under
 * the referenced SOP Class and the requester sent it or may read it (core/archive/commitment-query.ts);
 * every other reference fails with No such object instance (0x0112). Pending requests are not
 * persisted: after a restart the requester's timeout asks again (PS3.4 §J.3.3.1 allows that).
 */
import type { IndexStore, DicomJson } from '../core/archive/index-store.js';
import { referenceKey, type SOPReference } from '../core/archive/commitment-query.js';
import type { StudyScope } from '../core/grants/grants.js';
import { assertValidUID } from '../core/dicom/uid.js';
import { LightboxError } from '../core/errors.js';
import { encodeNEventReportRQ } from './dimse-command.js';
import type { DimseConnection } from './dimse-connection.js';
import { dicomJsonToDataset } from './dimse-dataset.js';
import { CommitmentFailureReason } from './dimse-status.js';
import { textValues } from './query-identifier.js';
import {
  StorageCommitmentPushModelSOPClassUID,
  StorageCommitmentPushModelSOPInstanceUID,
} from './sop-classes.js';
import { Readable } from 'node:stream';

const TransactionUID = '00081195';
const ReferencedSOPSequence = '00081199';
const FailedSOPSequence = '00081198';
const ReferencedSOPClassUID = '00081150';
const ReferencedSOPInstanceUID = '00081155';
const FailureReason = '00081197';
/** PS3.4 §J.3.2.1.1: ActionTypeID 1 = Request Storage Commitment. */
export const RequestStorageCommitment = 1;
/** PS3.4 §J.3.3.1: EventTypeID 1 = all committed, 2 = failures exist. */
const StorageCommitmentRequestSuccessful = 1;
const StorageCommitmentRequestCompleteFailuresExist = 2;

export interface CommitmentRequest {
  TransactionUID: string;
  references: SOPReference[];
}

const uid = (attributes: DicomJson, tag: string, keyword: string) =>
  assertValidUID(textValues(attributes[tag])[0], keyword);

/** Action Information (PS3.4 Table J.3-1) → the request; BadRequest when it is unusable. */
export function parseCommitmentRequest(info: DicomJson): CommitmentRequest {
  const items = (info[ReferencedSOPSequence]?.Value ?? []) as DicomJson[];
  if (items.length === 0) throw new LightboxError('BadRequest', 'ReferencedSOPSequence is empty');
  return {
    TransactionUID: uid(info, TransactionUID, 'TransactionUID'),
    references: items.map((item) => ({
      ReferencedSOPClassUID: uid(item, ReferencedSOPClassUID, 'ReferencedSOPClassUID'),
      ReferencedSOPInstanceUID: uid(item, ReferencedSOPInstanceUID, 'ReferencedSOPInstanceUID'),
    })),
  };
}

export interface CommitmentReport {
  EventTypeID: number;
  info: DicomJson;
  committed: number;
  failed: number;
}

export async function commitmentReport(
  index: IndexStore,
  request: CommitmentRequest,
  requester: { callingAETitle: string; scope: StudyScope },
): Promise<CommitmentReport> {
  const committed = await index.findCommittedInstances(request.references, requester);
  const item = (r: SOPReference): DicomJson => ({
    [ReferencedSOPClassUID]: { vr: 'UI', Value: [r.ReferencedSOPClassUID] },
    [ReferencedSOPInstanceUID]: { vr: 'UI', Value: [r.ReferencedSOPInstanceUID] },
  });
  const ok = request.references.filter((r) => committed.has(referenceKey(r)));
  const failed = request.references.filter((r) => !committed.has(referenceKey(r)));
  const info: DicomJson = { [TransactionUID]: { vr: 'UI', Value: [request.TransactionUID] } };
  if (ok.length > 0) info[ReferencedSOPSequence] = { vr: 'SQ', Value: ok.map(item) };
  if (failed.length > 0) {
    info[FailedSOPSequence] = {
      vr: 'SQ',
      Value: failed.map((r) => ({
        ...item(r),
        [FailureReason]: { vr: 'US', Value: [CommitmentFailureReason.NoSuchObjectInstance] },
      })),
    };
  }
  return {
    EventTypeID:
      failed.length === 0
        ? StorageCommitmentRequestSuccessful
        : StorageCommitmentRequestCompleteFailuresExist,
    info: Object.fromEntries(Object.entries(info).sort(([a], [b]) => (a < b ? -1 : 1))),
    committed: ok.length,
    failed: failed.length,
  };
}

/** Sends the N-EVENT-REPORT-RQ and resolves with the requester's N-EVENT-REPORT-RSP status. */
export async function sendCommitmentReport(
  connection: DimseConnection,
  contextId: number,
  transferSyntaxUID: string,
  report: CommitmentReport,
  timeoutMs: number,
): Promise<number> {
  const MessageID = connection.nextMessageId();
  const command = encodeNEventReportRQ({
    MessageID,
    AffectedSOPClassUID: StorageCommitmentPushModelSOPClassUID,
    AffectedSOPInstanceUID: StorageCommitmentPushModelSOPInstanceUID,
    EventTypeID: report.EventTypeID,
  });
  const body = dicomJsonToDataset(report.info, transferSyntaxUID).getDenaturalizedDataset();
  const response = connection.awaitResponse(MessageID, timeoutMs);
  response.catch(() => undefined);
  await connection.sendMessage(contextId, command, Readable.from([body]));
  return (await response).getStatus();
}
