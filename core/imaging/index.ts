/**
 * Rendering of DICOM images to JPEG and PNG for DICOMweb rendered resources, thumbnails and WADO-URI.
 * This barrel loads the engines (dcmjs-imaging and its WASM codecs, sharp and libvips: about 35 MB
 * of RSS): it is for the render threads and tests. The main thread (viewer-api) imports the request
 * modules it needs directly (rendered-query, wado-uri-query, render-options, errors, render-pool).
 */
export { renderFrame, renderThumbnail, DEFAULT_THUMBNAIL_SIZE } from './render-frame.js';
export type { RenderInput, ThumbnailOptions } from './render-frame.js';
export { parseRenderedQuery } from './rendered-query.js';
export type { Query, RenderTarget } from './rendered-query.js';
export { selectRenderedMediaType } from './rendered-media-type.js';
export { parseWadoUriQuery } from './wado-uri-query.js';
export type { WadoUriRendering } from './wado-uri-query.js';
export { initializeDecoders } from './dicom-image.js';
export { RenderError, isRenderError } from './errors.js';
export type { RenderErrorCode, RenderErrorStatus } from './errors.js';
export {
  assertRenderableSize,
  DEFAULT_JPEG_QUALITY,
  DEFAULT_MAX_RENDER_BYTES,
} from './render-options.js';
export type {
  NormalizedRegion,
  RenderedImage,
  RenderedMediaType,
  RenderLimits,
  RenderOptions,
  RenderWindow,
  Viewport,
  VOILUTFunction,
} from './render-options.js';
