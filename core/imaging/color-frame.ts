/**
 * Colour frames that dcmjs-imaging gets wrong, decoded here: samples of more than 8 bits (it reads
 * colour samples as bytes) and RLE Lossless (it interleaves the decoded colour planes wrongly; both
 * checked against pydicom in the tests). Samples are reduced to the 8 bits per channel a rendered
 * image may carry (PS3.18 §8.7.4): the most significant 8 of Bits Stored.
 */
import { numberOf, photometricInterpretation, type Elements } from './dicom-image.js';
import { RenderError } from './errors.js';
import { fragmentsOf, isNative, nativeFrame, pixelDataKey } from './frame-pixels.js';
import type { RawFrame } from './raw-frame.js';
import { decodeRleSegments } from './rle.js';

const RLE = '1.2.840.10008.1.2.5';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** byte(p, s, k): byte k, most significant first, of sample s of pixel p. */
type SampleByte = (pixel: number, sample: number, k: number) => number;

export function needsOwnColorDecoding(elements: Elements, TransferSyntaxUID: string): boolean {
  if ((numberOf(elements.SamplesPerPixel) ?? 1) !== 3) return false;
  return (numberOf(elements.BitsAllocated) ?? 8) > 8 || TransferSyntaxUID === RLE;
}

function nativeBytes(elements: Elements, TransferSyntaxUID: string, index: number): SampleByte {
  const frame = nativeFrame(elements, index);
  const bytes = (numberOf(elements.BitsAllocated) ?? 16) / 8;
  const pixels = (numberOf(elements.Rows) ?? 0) * (numberOf(elements.Columns) ?? 0);
  const planar = numberOf(elements.PlanarConfiguration) === 1;
  const bigEndian = TransferSyntaxUID === BIG_ENDIAN;
  return (p, s, k) => {
    const sample = planar ? s * pixels + p : p * 3 + s;
    return frame[sample * bytes + (bigEndian ? k : bytes - 1 - k)];
  };
}

/** RLE: one segment per byte of each sample, most significant first (PS3.5 §G.2). */
function rleBytes(elements: Elements, index: number): SampleByte {
  const fragments = fragmentsOf(elements[pixelDataKey(elements)]);
  const frames = numberOf(elements.NumberOfFrames) ?? 1;
  if (frames > 1 && fragments.length !== frames) {
    throw new RenderError(
      'UnsupportedPixelData',
      'several fragments per frame are not rendered yet',
    );
  }
  const data = frames > 1 ? [fragments[index]] : fragments;
  const frame = Buffer.concat(data.map((f) => new Uint8Array(f)));
  const bytes = (numberOf(elements.BitsAllocated) ?? 8) / 8;
  const pixels = (numberOf(elements.Rows) ?? 0) * (numberOf(elements.Columns) ?? 0);
  const segments = decodeRleSegments(frame, pixels, 3 * bytes);
  return (p, s, k) => segments[s * bytes + k][p];
}

/** YBR_FULL to RGB (PS3.3 §C.7.6.3.1.2), in place on 8-bit samples. */
function ybrFullToRgb(out: Buffer): void {
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let i = 0; i < out.length; i += 3) {
    const [y, cb, cr] = [out[i], out[i + 1] - 128, out[i + 2] - 128];
    out[i] = clamp(y + 1.402 * cr);
    out[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    out[i + 2] = clamp(y + 1.772 * cb);
  }
}

/** Frame `index` as 8-bit RGB. Throws UnsupportedPixelData outside RGB/YBR_FULL, native or RLE. */
export function colorFrame(elements: Elements, TransferSyntaxUID: string, index: number): RawFrame {
  const width = numberOf(elements.Columns) ?? 0;
  const height = numberOf(elements.Rows) ?? 0;
  const allocated = numberOf(elements.BitsAllocated) ?? 8;
  const stored = numberOf(elements.BitsStored) ?? allocated;
  const bytes = allocated / 8;
  const pi = photometricInterpretation(elements);
  if ((pi !== 'RGB' && pi !== 'YBR_FULL') || ![1, 2, 4].includes(bytes)) {
    throw new RenderError('UnsupportedPixelData', `${pi} colour pixel data cannot be rendered`);
  }
  let byte: SampleByte;
  if (TransferSyntaxUID === RLE) byte = rleBytes(elements, index);
  else if (isNative(TransferSyntaxUID)) byte = nativeBytes(elements, TransferSyntaxUID, index);
  else {
    throw new RenderError(
      'UnsupportedPixelData',
      'colour pixel data of more than 8 bits is rendered from native and RLE encodings only',
    );
  }
  const shift = 2 ** Math.max(0, stored - 8);
  const max = 2 ** stored;
  const pixels = width * height;
  const out = Buffer.alloc(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let s = 0; s < 3; s++) {
      let value = 0;
      for (let k = 0; k < bytes; k++) value = value * 256 + byte(p, s, k);
      out[p * 3 + s] = Math.floor((value % max) / shift);
    }
  }
  if (pi === 'YBR_FULL') ybrFullToRgb(out);
  return { data: out, width, height, channels: 3 };
}
