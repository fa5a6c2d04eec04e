/**
 * Narrows the Pixel Data of a loaded data set to the one frame being rendered, so that the renderer
 * decodes one frame and sees clean stored values. dcmjs keeps native Pixel Data as one buffer and
 * encapsulated Pixel Data as one buffer per fragment (PS3.5 §A.4).
 */
import { RenderError } from './errors.js';
import {
  numberOf,
  numberOfFrames,
  photometricInterpretation,
  type Elements,
} from './dicom-image.js';

/** Native (uncompressed) transfer syntaxes; deflate is undone by dcmjs (PS3.5 §A.1–A.3, §A.5). */
const NATIVE = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
]);
const BIG_ENDIAN = '1.2.840.10008.1.2.2';

export function isNative(TransferSyntaxUID: string): boolean {
  return NATIVE.has(TransferSyntaxUID);
}

export function pixelDataKey(elements: Elements): 'PixelData' | 'FloatPixelData' {
  return elements.PixelData !== undefined ? 'PixelData' : 'FloatPixelData';
}

export function fragmentsOf(value: unknown): ArrayBuffer[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is ArrayBuffer => v instanceof ArrayBuffer);
}

/** Bytes of one native frame (PS3.5 §8.1.1; YBR_*_422 keeps two samples per pixel, PS3.3 §C.7.6.3.1.2). */
export function nativeFrameSize(elements: Elements): number {
  const bytes = Math.ceil((numberOf(elements.BitsAllocated) ?? 0) / 8);
  const pixels = (numberOf(elements.Rows) ?? 0) * (numberOf(elements.Columns) ?? 0);
  const subsampled = photometricInterpretation(elements).endsWith('_422');
  const samples = subsampled ? 2 : (numberOf(elements.SamplesPerPixel) ?? 1);
  return bytes * samples * pixels;
}

/** The bytes of native frame `index`, copied. Throws RenderFailed when the value is too short. */
export function nativeFrame(elements: Elements, index: number): Uint8Array {
  const [all] = fragmentsOf(elements[pixelDataKey(elements)]);
  const size = nativeFrameSize(elements);
  if (!all || size === 0 || (index + 1) * size > all.byteLength) {
    throw new RenderError('RenderFailed', 'the pixel data is shorter than its frames');
  }
  return new Uint8Array(all, index * size, size).slice();
}

/**
 * Shifts unsigned little-endian samples down to bit 0 and clears the bits above Bits Stored, which
 * PS3.5 §8.1.1 leaves undefined (old overlay planes live there); dcmjs-imaging would read them as
 * part of the value.
 */
function maskUnsigned(frame: Uint8Array, elements: Elements): void {
  const allocated = numberOf(elements.BitsAllocated) ?? 0;
  const stored = numberOf(elements.BitsStored) ?? allocated;
  const highBit = numberOf(elements.HighBit) ?? stored - 1;
  if (numberOf(elements.PixelRepresentation) === 1 || stored >= allocated) return;
  if (allocated !== 8 && allocated !== 16) return;
  const shift = highBit + 1 - stored;
  const mask = 2 ** stored - 1;
  const samples =
    allocated === 8 ? frame : new Uint16Array(frame.buffer, frame.byteOffset, frame.byteLength / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = (samples[i] >> shift) & mask;
  elements.HighBit = stored - 1;
}

/**
 * Keeps frame `index` (0-based) only, and returns the frame index to hand to the renderer: 0, or
 * `index` itself for 1-bit data, whose frames are packed back to back without byte alignment.
 * Throws FrameNotFound (404) for an index outside the instance.
 */
export function isolateFrame(elements: Elements, TransferSyntaxUID: string, index: number): number {
  const frames = numberOfFrames(elements);
  if (!Number.isInteger(index) || index < 0 || index >= frames) {
    throw new RenderError('FrameNotFound', `the instance has ${frames} frame(s)`);
  }
  if ((numberOf(elements.BitsAllocated) ?? 0) === 1) return index;
  const key = pixelDataKey(elements);
  if (isNative(TransferSyntaxUID)) {
    const frame = nativeFrame(elements, index);
    if (TransferSyntaxUID !== BIG_ENDIAN) maskUnsigned(frame, elements);
    elements[key] = [frame.buffer];
  } else if (frames > 1) {
    const fragments = fragmentsOf(elements[key]);
    if (fragments.length !== frames) {
      throw new RenderError(
        'UnsupportedPixelData',
        'multi-frame pixel data with several fragments per frame is not rendered yet',
      );
    }
    elements[key] = [fragments[index]];
  }
  elements.NumberOfFrames = 1;
  return 0;
}
