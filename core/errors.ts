/**
 * Typed errors shared by every process. Each edge maps `code` once: gateway/dimse-status.ts to DIMSE
 * statuses, viewer-api/problem.ts to application/problem+json, worker/ to retry-or-not. Match on `code`
 * (it survives the queue's serialisation), never only on `instanceof`.
 */
export type LightboxErrorCode =
  | 'InvalidUID' // a UID that is not PS3.5 §9 conformant
  | 'InvalidDataset' // cannot be parsed as DICOM, or a required attribute is absent
  | 'DatasetDoesNotMatchSOPClass' // the data set contradicts the command (PS3.4 0xA900)
  | 'PayloadTooLarge'
  | 'NotFound'
  | 'Conflict' // same SOPInstanceUID, different bytes
  | 'Forbidden'
  | 'StorageUnavailable' // spool, queue, object store or index cannot take the write now (retry)
  | 'BadRequest' // a request the HTTP edge cannot act on (query parameter, frame list, multipart body)
  | 'Unauthorized' // no credential, or one that is not valid
  | 'NotAcceptable' // no representation the Accept header allows (e.g. a transfer syntax we do not transcode to)
  | 'UnsupportedMediaType' // a request body in a media type we do not take
  | 'RangeNotSatisfiable' // a byte range outside the value
  | 'Locked' // a share link locked after too many wrong PINs
  | 'Internal';

export class LightboxError extends Error {
  constructor(
    readonly code: LightboxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LightboxError';
  }
}

export function isLightboxError(error: unknown, code?: LightboxErrorCode): error is LightboxError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'LightboxError' &&
    (code === undefined || (error as { code?: unknown }).code === code)
  );
}

/** Transient faults are retried by the worker; everything else about the object itself is final. */
export function isPermanent(error: unknown): boolean {
  return (
    isLightboxError(error) &&
    ['InvalidUID', 'InvalidDataset', 'DatasetDoesNotMatchSOPClass', 'PayloadTooLarge'].includes(
      error.code,
    )
  );
}
