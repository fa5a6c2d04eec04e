/**
 * RLE Lossless decoding (PS3.5 Annex G), used for colour data of more than 8 bits per sample, which
 * dcmjs-imaging renders as if it were 8-bit.
 */
import { RenderError } from './errors.js';

function corrupt(): RenderError {
  return new RenderError('RenderFailed', 'the RLE pixel data is malformed');
}

/** One segment, PackBits-decoded into `length` bytes (PS3.5 §G.3.1). */
function decodeSegment(data: Uint8Array, start: number, end: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  let i = start;
  while (i < end && o < length) {
    const n = (data[i++] << 24) >> 24; // signed byte
    if (n >= 0) {
      const count = Math.min(n + 1, length - o, end - i);
      out.set(data.subarray(i, i + count), o);
      i += n + 1;
      o += count;
    } else if (n !== -128) {
      const count = Math.min(1 - n, length - o);
      out.fill(data[i++], o, o + count);
      o += count;
    }
  }
  return out;
}

/**
 * The segments of one frame (PS3.5 §G.2, §G.5): the 64-byte header holds the number of segments
 * and their offsets; each segment holds one byte of each sample, most significant byte first.
 */
export function decodeRleSegments(
  frame: Uint8Array,
  pixels: number,
  expected: number,
): Uint8Array[] {
  if (frame.byteLength < 64) throw corrupt();
  const header = new DataView(frame.buffer, frame.byteOffset, 64);
  const count = header.getUint32(0, true);
  if (count !== expected) throw corrupt();
  const offsets = Array.from({ length: count }, (_, k) => header.getUint32(4 + 4 * k, true));
  return offsets.map((start, k) => {
    const end = k + 1 < count ? offsets[k + 1] : frame.byteLength;
    if (start < 64 || end > frame.byteLength || end < start) throw corrupt();
    return decodeSegment(frame, start, end, pixels);
  });
}
