/**
 * A-ASSOCIATE-RQ policy (PS3.8 §7.1): who may associate, and which presentation contexts are accepted.
 * Decisions are pure; the SCP applies them. dcmjs-dimse's documented accept loop calls setResult while
 * iterating the list it truncates, so the contexts are copied, decided, and each set exactly once.
 */
import dimse from 'dcmjs-dimse';
import type { GatewayConfig } from '../config/schema.js';
import { isStorageSOPClass, VerificationSOPClassUID } from './sop-classes.js';

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
}

export type ContextDecision = { result: number; transferSyntaxUID?: string };

/**
 * Verification and every storage SOP class are accepted with the first transfer syntax the SCU
 * proposes (PS3.8 leaves the choice to the acceptor; the SCU lists its preference first, and any
 * syntax it proposes is one it can send without loss, so compressed syntaxes are kept as sent).
 */
export function decidePresentationContext(proposed: ProposedContext): ContextDecision {
  const supported =
    proposed.abstractSyntaxUID === VerificationSOPClassUID ||
    isStorageSOPClass(proposed.abstractSyntaxUID);
  if (!supported) return { result: PresentationContextResult.RejectAbstractSyntaxNotSupported };
  const transferSyntaxUID = proposed.transferSyntaxUIDs[0];
  if (!transferSyntaxUID) {
    return { result: PresentationContextResult.RejectTransferSyntaxesNotSupported };
  }
  return { result: PresentationContextResult.Accept, transferSyntaxUID };
}
