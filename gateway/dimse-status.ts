/**
 * THE error → DIMSE status map of the gateway (PS3.4 §B.2.3 C-STORE statuses, PS3.7 §C general
 * statuses). Every C-STORE failure goes through here; nothing else in gateway/ picks a status code.
 */
import { isLightboxError } from '../core/errors.js';

export const CStoreStatus = {
  Success: 0x0000,
  /** PS3.4 B.2.3: Refused: Out of Resources. */
  RefusedOutOfResources: 0xa700,
  /** PS3.4 B.2.3: Error: Data Set does not match SOP Class. */
  ErrorDataSetDoesNotMatchSOPClass: 0xa900,
  /** PS3.4 B.2.3: Error: Cannot understand. */
  ErrorCannotUnderstand: 0xc000,
  /** PS3.7 C.5.20: Refused: SOP Class not supported. */
  RefusedSOPClassNotSupported: 0x0122,
  /** PS3.7 C.5.18: Failure: Processing failure. */
  ProcessingFailure: 0x0110,
} as const;

export interface DimseFailure {
  status: number;
  /** ErrorComment (0000,0902): short, no patient data, at most 64 characters (LO). */
  errorComment: string;
}

export function cStoreFailure(error: unknown): DimseFailure {
  if (!isLightboxError(error)) {
    return { status: CStoreStatus.ProcessingFailure, errorComment: 'Processing failure' };
  }
  switch (error.code) {
    case 'StorageUnavailable':
      return { status: CStoreStatus.RefusedOutOfResources, errorComment: 'Storage unavailable' };
    case 'PayloadTooLarge':
      return { status: CStoreStatus.RefusedOutOfResources, errorComment: 'Instance too large' };
    case 'DatasetDoesNotMatchSOPClass':
      return {
        status: CStoreStatus.ErrorDataSetDoesNotMatchSOPClass,
        errorComment: 'Data set does not match command',
      };
    case 'InvalidUID':
    case 'InvalidDataset':
      return {
        status: CStoreStatus.ErrorCannotUnderstand,
        errorComment: error.message.slice(0, 64),
      };
    default:
      return { status: CStoreStatus.ProcessingFailure, errorComment: 'Processing failure' };
  }
}

/** PS3.4 §C.4.1.1.4 (C-FIND), §C.4.2.1.5 (C-MOVE), §C.4.3.1.4 (C-GET). */
export const QueryRetrieveStatus = {
  Success: 0x0000,
  Pending: 0xff00,
  /** Matches are continuing: one or more Optional Keys were not supported for matching. */
  PendingWithWarning: 0xff01,
  Cancel: 0xfe00,
  /** C-FIND: Refused: Out of Resources. */
  RefusedOutOfResources: 0xa700,
  /** C-MOVE / C-GET: Refused: Out of Resources – Unable to calculate number of matches. */
  RefusedUnableToCalculateMatches: 0xa701,
  /** C-MOVE / C-GET: Refused: Out of Resources – Unable to perform sub-operations. */
  RefusedUnableToPerformSubOperations: 0xa702,
  /** C-MOVE: Refused: Move Destination unknown. */
  RefusedMoveDestinationUnknown: 0xa801,
  /** Error: Data Set does not match SOP Class (the identifier). */
  IdentifierDoesNotMatchSOPClass: 0xa900,
  /** Failed: Unable to process. */
  UnableToProcess: 0xc000,
  /** Warning: Sub-operations Complete – One or more Failures or Warnings. */
  SubOperationsCompleteWithFailures: 0xb000,
} as const;

/** A C-FIND, C-MOVE or C-GET that cannot run: the identifier, the index, or anything else. */
export function queryRetrieveFailure(error: unknown, retrieve = false): DimseFailure {
  const code = isLightboxError(error) ? error.code : 'Internal';
  switch (code) {
    case 'StorageUnavailable':
      return {
        status: retrieve
          ? QueryRetrieveStatus.RefusedUnableToCalculateMatches
          : QueryRetrieveStatus.RefusedOutOfResources,
        errorComment: 'Archive index unavailable',
      };
    case 'BadRequest':
    case 'InvalidUID':
    case 'InvalidDataset':
      return {
        status: QueryRetrieveStatus.IdentifierDoesNotMatchSOPClass,
        errorComment: (error as Error).message.slice(0, 64),
      };
    default:
      return { status: QueryRetrieveStatus.UnableToProcess, errorComment: 'Unable to process' };
  }
}

/**
 * The status of a finished C-MOVE/C-GET (PS3.4 §C.4.2.3.1): Success when every sub-operation
 * succeeded, A702 when all failed, B000 when some did.
 */
export function subOperationsStatus(counts: {
  completed: number;
  failed: number;
  warning: number;
}): number {
  if (counts.failed === 0 && counts.warning === 0) return QueryRetrieveStatus.Success;
  if (counts.completed === 0 && counts.warning === 0) {
    return QueryRetrieveStatus.RefusedUnableToPerformSubOperations;
  }
  return QueryRetrieveStatus.SubOperationsCompleteWithFailures;
}

/** PS3.4 §J.3.2.1.1: FailureReason of a Storage Commitment failed SOP reference. */
export const CommitmentFailureReason = {
  NoSuchObjectInstance: 0x0112,
  ProcessingFailure: 0x0110,
} as const;

/** PS3.7 §10.1.4.1.10 N-ACTION statuses Lightbox answers (PS3.7 Annex C). */
export const NActionStatus = {
  Success: 0x0000,
  ProcessingFailure: 0x0110,
  NoSuchSOPInstance: 0x0112,
  InvalidArgumentValue: 0x0115,
  NoSuchSOPClass: 0x0118,
  MissingAttribute: 0x0120,
  NoSuchActionType: 0x0123,
} as const;

/** A Storage Commitment N-ACTION whose Action Information cannot be used. */
export function nActionFailure(error: unknown): DimseFailure {
  const code = isLightboxError(error) ? error.code : 'Internal';
  if (code === 'BadRequest' || code === 'InvalidUID') {
    return {
      status: NActionStatus.InvalidArgumentValue,
      errorComment: (error as Error).message.slice(0, 64),
    };
  }
  return { status: NActionStatus.ProcessingFailure, errorComment: 'Processing failure' };
}
