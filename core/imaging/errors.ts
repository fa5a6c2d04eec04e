/**
 * The one error type of the rendering engine. `status` is the HTTP status PS3.18 asks for, and
 * `message` is safe to show to the caller (no patient data, no paths, no library internals). The
 * HTTP edge (viewer-api/problem.ts) maps it once; match on `name`/`code`, not only `instanceof`.
 */
export type RenderErrorCode =
  /** A query parameter or header value is missing or ill-formed (PS3.18 §8.3.5.1: 400). */
  | 'InvalidRenderParameter'
  /** No rendered media type that Lightbox produces is acceptable (PS3.18 §8.7.8.1 step 5: 406). */
  | 'NotAcceptable'
  /** The instance has no Pixel Data: SR, RT Plan, presentation state… (400, see below). */
  | 'NoPixelData'
  /** The frame number is not in the instance (404, as for WADO-RS frames). */
  | 'FrameNotFound'
  /** Larger than the rendering limit: "too large to be returned" (413, PS3.18 §10.4.3.1). */
  | 'TooLargeToRender'
  /** A pixel encoding the engine cannot render (photometric interpretation, transfer syntax, 406). */
  | 'UnsupportedPixelData'
  /** The stored pixel data could not be decoded (500: a fault of the stored object, not the request). */
  | 'RenderFailed';

export type RenderErrorStatus = 400 | 404 | 406 | 413 | 500;

const STATUS: Record<RenderErrorCode, RenderErrorStatus> = {
  InvalidRenderParameter: 400,
  NotAcceptable: 406,
  // PS3.18 §8.3.5.1 rule 3: the rendering parameters apply to images and video only; a request for a
  // rendered non-image is a request the resource cannot satisfy, hence a client error, not a 500.
  NoPixelData: 400,
  FrameNotFound: 404,
  TooLargeToRender: 413,
  UnsupportedPixelData: 406,
  RenderFailed: 500,
};

export class RenderError extends Error {
  readonly status: RenderErrorStatus;

  constructor(
    readonly code: RenderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RenderError';
    this.status = STATUS[code];
  }
}

export function isRenderError(error: unknown, code?: RenderErrorCode): error is RenderError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'RenderError' &&
    (code === undefined || (error as { code?: unknown }).code === code)
  );
}

/** Shorthand for the 400 of a bad query parameter. */
export function invalidParameter(message: string): RenderError {
  return new RenderError('InvalidRenderParameter', message);
}
