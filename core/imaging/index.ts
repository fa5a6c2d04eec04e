/** Rendering of DICOM images to JPEG and PNG for DICOMweb rendered resources, thumbnails and WADO-URI. */
export { renderFrame, renderThumbnail, DEFAULT_THUMBNAIL_SIZE } from './render-frame.js';
export type { RenderInput, ThumbnailOptions } from './render-frame.js';
export { parseRenderedQuery } from './rendered-query.js';
export type { Query, RenderTarget } from './rendered-query.js';
export { selectRenderedMediaType } from './rendered-media-type.js';
export { parseWadoUriQuery } from './wado-uri-query.js';
export type { WadoUriRendering } from './wado-uri-query.js';
export { assertRenderableSize, initializeDecoders } from './dicom-image.js';
export { RenderError, isRenderError } from './errors.js';
export type { RenderErrorCode, RenderErrorStatus } from './errors.js';
export { DEFAULT_JPEG_QUALITY, DEFAULT_MAX_RENDER_BYTES } from './render-options.js';
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
