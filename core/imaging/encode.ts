/**
 * The spatial part of rendering and the encoding, with sharp (libvips): WADO-URI region, then the
 * viewport's source region and flips, then scaling into the viewport (PS3.18 §8.3.5.1: "Any Viewport
 * parameters are applied after any Source Image Region"), then JPEG or PNG.
 */
import sharp from 'sharp';
import { invalidParameter } from './errors.js';
import type { RawFrame } from './raw-frame.js';
import {
  DEFAULT_JPEG_QUALITY,
  type NormalizedRegion,
  type RenderedImage,
  type RenderOptions,
  type Viewport,
} from './render-options.js';

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Clips a rectangle to the image; 400 when nothing of it is inside. */
function clip(
  left: number,
  top: number,
  right: number,
  bottom: number,
  width: number,
  height: number,
): Rect {
  const l = Math.max(0, Math.round(left));
  const t = Math.max(0, Math.round(top));
  const r = Math.min(width, Math.round(right));
  const b = Math.min(height, Math.round(bottom));
  if (r - l < 1 || b - t < 1) throw invalidParameter('the requested region lies outside the image');
  return { left: l, top: t, width: r - l, height: b - t };
}

/** WADO-URI region: normalised corners (PS3.18-2019a §8.2.4). */
function regionRect(region: NormalizedRegion, width: number, height: number): Rect {
  const { xmin, ymin, xmax, ymax } = region;
  return clip(xmin * width, ymin * height, xmax * width, ymax * height, width, height);
}

/**
 * The viewport's source region (PS3.18 §8.3.5.1.3): absolute values of sx, sy (default 0) and of
 * sw, sh (default: to the right and bottom edges).
 */
function sourceRect(viewport: Viewport, width: number, height: number): Rect {
  const sx = Math.abs(viewport.sx ?? 0);
  const sy = Math.abs(viewport.sy ?? 0);
  const sw = viewport.sw === undefined ? width - sx : Math.abs(viewport.sw);
  const sh = viewport.sh === undefined ? height - sy : Math.abs(viewport.sh);
  return clip(sx, sy, sx + sw, sy + sh, width, height);
}

/**
 * The output size: as large as possible within the viewport without distorting the region
 * (§8.3.5.1.3); with only one dimension (WADO-URI rows or columns) the other follows.
 */
export function fitInto(
  width: number,
  height: number,
  box: Viewport,
): { width: number; height: number } {
  const scales = [box.width && box.width / width, box.height && box.height / height].filter(
    (s): s is number => typeof s === 'number',
  );
  if (scales.length === 0) return { width, height };
  const scale = Math.min(...scales);
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** Crops, flips, scales and encodes `frame` as options.accept. */
export async function encodeFrame(
  frame: RawFrame,
  options: Pick<RenderOptions, 'accept' | 'quality' | 'viewport' | 'region'>,
): Promise<RenderedImage> {
  const { width, height, channels } = frame;
  let image = sharp(frame.data, { raw: { width, height, channels } });
  if (channels === 1) image = image.toColourspace('b-w'); // grayscale JPEG/PNG, not sRGB
  let rect: Rect = { left: 0, top: 0, width, height };
  if (options.region) rect = regionRect(options.region, width, height);
  const viewport = options.viewport;
  if (viewport) {
    const inner = sourceRect(viewport, rect.width, rect.height);
    rect = { ...inner, left: rect.left + inner.left, top: rect.top + inner.top };
  }
  if (rect.width !== width || rect.height !== height) image = image.extract(rect);
  if (viewport?.sw !== undefined && viewport.sw < 0) image = image.flop();
  if (viewport?.sh !== undefined && viewport.sh < 0) image = image.flip();
  if (viewport) {
    const size = fitInto(rect.width, rect.height, viewport);
    if (size.width !== rect.width || size.height !== rect.height) {
      image = image.resize(size.width, size.height, { fit: 'fill' });
    }
  }
  if (options.accept === 'image/png') {
    return { body: await image.png().toBuffer(), contentType: 'image/png' };
  }
  // PS3.18 §8.7.4: baseline sequential Huffman JPEG, 8 bits (no progressive, no arithmetic coding).
  const jpeg = image.jpeg({
    quality: options.quality ?? DEFAULT_JPEG_QUALITY,
    progressive: false,
    mozjpeg: false,
    chromaSubsampling: '4:4:4',
  });
  return { body: await jpeg.toBuffer(), contentType: 'image/jpeg' };
}
