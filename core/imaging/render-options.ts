/**
 * What a rendering request asks for, independent of where it came from (WADO-RS rendered query
 * parameters, WADO-URI parameters, thumbnails). Coordinates are in pixels of the source frame.
 */
import { RenderError } from './errors.js';

/** The rendered media types Lightbox produces (PS3.18 §8.7.4, Table 8.7.4-1). */
export type RenderedMediaType = 'image/jpeg' | 'image/png';

/** VOI LUT Function (0028,1056) defined terms (PS3.3 §C.11.2.1.3). */
export type VOILUTFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** A window in modality units, i.e. after RescaleSlope/RescaleIntercept (PS3.3 §C.11.2.1.2). */
export interface RenderWindow {
  center: number;
  width: number;
  /** LINEAR when absent (PS3.3 §C.11.2.1.3.1). */
  function?: VOILUTFunction;
}

/**
 * PS3.18 §8.3.5.1.3 viewport. The selected region is scaled, keeping its aspect ratio, to be as
 * large as possible within width × height. WADO-URI may give only one of them (rows or columns,
 * PS3.18-2019a §8.2.2, now the URI Service of Chapter 9): the other follows from the aspect ratio.
 */
export interface Viewport {
  width?: number;
  height?: number;
  /** Source region (sx, sy, sw, sh) in pixels; absent values take the defaults of §8.3.5.1.3. */
  sx?: number;
  sy?: number;
  /** Negative: the image is flipped horizontally. */
  sw?: number;
  /** Negative: the image is flipped vertically. */
  sh?: number;
}

/** WADO-URI `region` (PS3.18-2019a §8.2.4): normalised 0.0–1.0 corners, applied before the viewport. */
export interface NormalizedRegion {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

export interface RenderOptions {
  accept: RenderedMediaType;
  /** 1–100, JPEG only (PS3.18 §8.3.5.1.2); Lightbox passes it to libjpeg as its quality factor. */
  quality?: number;
  /** Absent: the instance's first window, else the frame's min/max (see window.ts). */
  window?: RenderWindow;
  viewport?: Viewport;
  region?: NormalizedRegion;
}

/** Limits that come from configuration, not from the request. */
export interface RenderLimits {
  /** Largest Part 10 object that is decoded in memory; default DEFAULT_MAX_RENDER_BYTES. */
  maxObjectBytes?: number;
}

/** 512 MiB: decoding needs the whole object in memory, plus the decoded frame. */
export const DEFAULT_MAX_RENDER_BYTES = 512 * 1024 * 1024;

/**
 * Throws TooLargeToRender (413) when an object of `byteLength` bytes is above the limit. Call it
 * before reading the object from the store, so that an oversized object is never loaded.
 */
export function assertRenderableSize(byteLength: number, limits?: RenderLimits): void {
  const max = limits?.maxObjectBytes ?? DEFAULT_MAX_RENDER_BYTES;
  if (byteLength > max) {
    throw new RenderError(
      'TooLargeToRender',
      `the object is ${byteLength} bytes; Lightbox renders objects of up to ${max} bytes`,
    );
  }
}

/** JPEG quality when the request names none. */
export const DEFAULT_JPEG_QUALITY = 90;

/** What the engine returns: the encoded image and its media type (the Content-Type to send). */
export interface RenderedImage {
  body: Buffer;
  contentType: RenderedMediaType;
}
