/**
 * One frame of a Part 10 object, rendered to 8-bit samples: Modality LUT, VOI LUT and Presentation
 * LUT for grayscale (PS3.4 §N.2.1, MONOCHROME1 inverted), palette lookup for PALETTE COLOR and
 * conversion to RGB for YBR_* (PS3.3 §C.7.6.3.1.2), by dcmjs-imaging. Overlays are not burned in.
 */
import imaging from 'dcmjs-imaging';
import { colorFrame, needsOwnColorDecoding } from './color-frame.js';
import {
  loadImage,
  numberOfFrames,
  photometricInterpretation,
  type Elements,
  type LoadedImage,
} from './dicom-image.js';
import { isRenderError, RenderError } from './errors.js';
import { isolateFrame } from './frame-pixels.js';
import type { RawFrame } from './raw-frame.js';
import type { RenderLimits, RenderWindow } from './render-options.js';
import { frameRescale, frameWindow, storedValueWindow } from './voi-window.js';

/** Attributes dcmjs-imaging would act on by itself; Lightbox decides them (see below). */
const IGNORED = [
  'WindowCenter',
  'WindowWidth',
  'SmallestImagePixelValue', // stored-value bounds that may be stale: min/max come from the frame
  'LargestImagePixelValue',
  // dcmjs-imaging resamples non-square pixels; PS3.18 §8.3.5.1.3 wants the source pixel matrix.
  'PixelSpacing',
  'ImagerPixelSpacing',
  'NominalScannedPixelSpacing',
  'PixelAspectRatio',
];

export interface DecodeRequest {
  bytes: Buffer;
  /** 1-based frame number, or the middle frame (thumbnails). */
  frame: number | 'middle';
  /** Absent: the frame's first window, else its min/max (modality values). */
  window?: RenderWindow;
}

function isGrayscale(elements: Elements): boolean {
  return photometricInterpretation(elements).startsWith('MONOCHROME');
}

/**
 * Switches the renderer to stored values with an explicit window (voi-window.ts) and returns that
 * window; undefined leaves it to compute the frame's min/max.
 */
function prepareGrayscale(elements: Elements, index: number, window?: RenderWindow) {
  const rescale = frameRescale(elements, index);
  const chosen = window ?? frameWindow(elements, index);
  const stored = chosen && storedValueWindow(chosen, rescale);
  elements.RescaleSlope = 1;
  elements.RescaleIntercept = 0;
  elements.VOILUTFunction = stored?.function ?? 'LINEAR';
  return stored && new imaging.WindowLevel(stored.width, stored.center);
}

function frameIndex(elements: Elements, frame: DecodeRequest['frame']): number {
  const frames = numberOfFrames(elements);
  const number = frame === 'middle' ? Math.floor((frames + 1) / 2) : frame;
  if (!Number.isInteger(number) || number < 1 || number > frames) {
    throw new RenderError('FrameNotFound', `the instance has ${frames} frame(s)`);
  }
  return number - 1;
}

function render(
  { image, elements, TransferSyntaxUID }: LoadedImage,
  request: DecodeRequest,
): RawFrame {
  const index = frameIndex(elements, request.frame);
  if (needsOwnColorDecoding(elements, TransferSyntaxUID)) {
    return colorFrame(elements, TransferSyntaxUID, index);
  }
  const grayscale = isGrayscale(elements);
  const windowLevel = grayscale ? prepareGrayscale(elements, index, request.window) : undefined;
  const renderIndex = isolateFrame(elements, TransferSyntaxUID, index);
  for (const keyword of IGNORED) delete elements[keyword];
  const result = image.render({ frame: renderIndex, windowLevel, renderOverlays: false });
  const rgba = new Uint8Array(result.pixels);
  const channels = grayscale ? 1 : 3;
  const data = Buffer.alloc(result.width * result.height * channels);
  for (let p = 0, o = 0; o < data.length; p += 4) {
    for (let c = 0; c < channels; c++) data[o++] = rgba[p + c];
  }
  return { data, width: result.width, height: result.height, channels };
}

/** Decodes and renders one frame; RenderError for every failure (see errors.ts). */
export async function decodeFrame(
  request: DecodeRequest,
  limits?: RenderLimits,
): Promise<RawFrame> {
  const loaded = await loadImage(request.bytes, limits);
  try {
    return render(loaded, request);
  } catch (error) {
    if (isRenderError(error)) throw error;
    const message = error instanceof Error ? error.message : '';
    if (/unsupported|not (yet )?implemented|cannot be currently/i.test(message)) {
      throw new RenderError('UnsupportedPixelData', 'this pixel data cannot be rendered', {
        cause: error,
      });
    }
    throw new RenderError('RenderFailed', 'the pixel data could not be decoded', { cause: error });
  }
}
