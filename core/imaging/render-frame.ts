/**
 * The rendering engine behind WADO-RS Rendered Resources (PS3.18 §10.4.1.1.3, query parameters
 * §8.3.5.1), Thumbnail Resources (§10.4.1.1.4, §8.3.5.2) and WADO-URI (PS3.18 Chapter 9).
 *
 * The whole Part 10 object is decoded in memory (dcmjs-imaging needs it), so objects above
 * RenderLimits.maxObjectBytes (512 MiB by default) are refused with 413: frames of larger
 * multi-frame objects are not rendered yet. Rendering runs on the calling thread.
 */
import { decodeFrame } from './decode-frame.js';
import { encodeFrame } from './encode.js';
import type { RenderedImage, RenderLimits, RenderOptions, Viewport } from './render-options.js';

export interface RenderInput {
  /** The complete Part 10 object, as stored. */
  bytes: Buffer;
  /** 1-based (PS3.18 §10.4.1.1.3 frame list; WADO-URI frameNumber). */
  frameNumber: number;
}

/**
 * Renders frame `frameNumber` as options.accept. Without options.window the instance's first Window
 * Center/Width is used (per frame for enhanced multi-frame objects), else the frame's min/max, as
 * viewers do. Throws RenderError (errors.ts).
 */
export async function renderFrame(
  input: RenderInput,
  options: RenderOptions,
  limits?: RenderLimits,
): Promise<RenderedImage> {
  const frame = await decodeFrame(
    { bytes: input.bytes, frame: input.frameNumber, window: options.window },
    limits,
  );
  return encodeFrame(frame, options);
}

export interface ThumbnailOptions {
  /** Longest side in pixels when no viewport is given; default 128. */
  size?: number;
  /** PS3.18 §8.3.5.2: viewport=vw,vh only. */
  viewport?: Pick<Viewport, 'width' | 'height'>;
  /** Default image/jpeg. */
  accept?: RenderOptions['accept'];
  quality?: number;
}

export const DEFAULT_THUMBNAIL_SIZE = 128;

/**
 * A thumbnail (PS3.18 §10.4.1.1.4; §8.3.5.2: "the origin server will determine the size"): the
 * given frame, else the middle frame of a multi-frame instance, with the default window, scaled to
 * fit `size` × `size` (or the viewport). Small images are enlarged, so that thumbnails line up. No
 * annotation is burned in ("The Thumbnail shall not contain any Patient Identifying Information").
 */
export async function renderThumbnail(
  input: { bytes: Buffer; frameNumber?: number },
  options: ThumbnailOptions = {},
  limits?: RenderLimits,
): Promise<RenderedImage> {
  const frame = await decodeFrame(
    { bytes: input.bytes, frame: input.frameNumber ?? 'middle' },
    limits,
  );
  const size = options.size ?? DEFAULT_THUMBNAIL_SIZE;
  return encodeFrame(frame, {
    accept: options.accept ?? 'image/jpeg',
    quality: options.quality,
    viewport: options.viewport ?? { width: size, height: size },
  });
}
