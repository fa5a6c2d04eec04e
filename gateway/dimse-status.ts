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
