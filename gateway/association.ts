/**
 * A-ASSOCIATE-RQ policy (PS3.8 §7.1): who may associate, and which presentation contexts are accepted.
 * Decisions are pure; the SCP applies them. dcmjs-dimse's documented accept loop calls setResult while
 * iterating the list it truncates, so the contexts are copied, decided, and each set exactly once.
 */
import dimse from 'dcmjs-dimse';
import type { GatewayConfig } from '../config/schema.js';
import { isStorageSOPClass, needsArchive, VerificationSOPClassUID } from './sop-classes.js';

const { PresentationContextResult, RejectReason } = dimse.constants;

export type AssociationDecision =
  { accept: true } | { accept: false; reason: number; why: 'called-ae' | 'calling-ae' };

export function decideAssociation(
  config: Pick<GatewayConfig, 'aeTitle' | 'allowedCallingAETitles' | 'checkCalledAETitle'>,
  callingAETitle: string,
  calledAETitle: string,
): AssociationDecision {
  if (config.checkCalledAETitle && calledAETitle.trim() !== config.aeTitle) {
    return { accept: false, reason: RejectReason.CalledAeNotRecognized, why: 'called-ae' };
  }
  const allowed = config.allowedCallingAETitles;
  if (allowed.length > 0 && !allowed.includes(callingAETitle.trim())) {
    return { accept: false, reason: RejectReason.CallingAeNotRecognized, why: 'calling-ae' };
  }
  return { accept: true };
}

export interface ProposedContext {
  abstractSyntaxUID: string;
  transferSyntaxUIDs: string[];
  /** The requester proposed the SCP role for itself (SCP/SCU Role Selection, PS3.7 §D.3.3.4): C-GET. */
  requesterIsSCP?: boolean;
}

export type ContextDecision = { result: number; transferSyntaxUID?: string };

const ImplicitVRLittleEndian = '1.2.840.10008.1.2';
const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';
const ExplicitVRBigEndian = '1.2.840.10008.1.2.2';
/** Syntaxes in which dcmjs-dimse reads and writes identifiers and event information. */
const UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian];

/**
 * - Verification and every storage SOP class that the requester sends (C-STORE): the first transfer
 *   syntax the SCU proposes (PS3.8 leaves the choice to the acceptor; the SCU lists its preference
 *   first, and any syntax it proposes is one it can send without loss, so compressed syntaxes are
 *   kept as sent).
 * - Storage SOP classes for which the requester takes the SCP role (C-GET sub-operations, which
 *   Lightbox sends unchanged): Explicit VR Little Endian when proposed (what most stored objects
 *   are in), else the first proposed; an instance stored in another syntax fails its sub-operation.
 * - Query/Retrieve and Storage Commitment: only when the archive is reachable from this process, in
 *   an uncompressed syntax (identifiers are small and decoded by dcmjs-dimse).
 */
export function decidePresentationContext(
  proposed: ProposedContext,
  archive = false,
): ContextDecision {
  const { abstractSyntaxUID, transferSyntaxUIDs } = proposed;
  const storage = isStorageSOPClass(abstractSyntaxUID);
  const answered = archive && needsArchive(abstractSyntaxUID);
  if (abstractSyntaxUID !== VerificationSOPClassUID && !storage && !answered) {
    return { result: PresentationContextResult.RejectAbstractSyntaxNotSupported };
  }
  let transferSyntaxUID: string | undefined;
  if (answered) transferSyntaxUID = UNCOMPRESSED.find((ts) => transferSyntaxUIDs.includes(ts));
  else if (
    storage &&
    proposed.requesterIsSCP &&
    transferSyntaxUIDs.includes(ExplicitVRLittleEndian)
  ) {
    transferSyntaxUID = ExplicitVRLittleEndian;
  } else transferSyntaxUID = transferSyntaxUIDs[0];
  if (!transferSyntaxUID) {
    return { result: PresentationContextResult.RejectTransferSyntaxesNotSupported };
  }
  return { result: PresentationContextResult.Accept, transferSyntaxUID };
}
