/**
 * Frames of native (uncompressed) pixel data (PS3.5 §8.1, PS3.3 §C.7.6.3): where frame k lies in the
 * value, from Rows, Columns, SamplesPerPixel, BitsAllocated and NumberOfFrames. Frames are back to
 * back; a frame of 1-bit pixels may start inside a byte (PS3.5 §8.1.1), and is then shifted into
 * place. WADO-RS frames are little endian (PS3.18 §8.7.3.5.2): big endian words are swapped.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { DicomJson } from '../archive/index-store.js';
import { LightboxError } from '../errors.js';

export interface FrameGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  numberOfFrames: number;
  photometricInterpretation: string;
}

function first(dataset: DicomJson, tag: string): unknown {
  return dataset[tag]?.Value?.[0];
}

function positive(dataset: DicomJson, tag: string, fallback?: number): number {
  const value = first(dataset, tag) ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new LightboxError('InvalidDataset', `image pixel attribute ${tag} is missing or invalid`);
  }
  return value;
}

/** Image Pixel Module attributes (PS3.3 §C.7.6.3) of a header. */
export function frameGeometry(dataset: DicomJson): FrameGeometry {
  return {
    rows: positive(dataset, '00280010'),
    columns: positive(dataset, '00280011'),
    samplesPerPixel: positive(dataset, '00280002', 1),
    bitsAllocated: positive(dataset, '00280100'),
    numberOfFrames: positive(dataset, '00280008', 1),
    photometricInterpretation: String(first(dataset, '00280004') ?? ''),
  };
}

/** Bits per frame. YBR_FULL_422 stores two samples per pixel on average (PS3.3 §C.7.6.3.1.2). */
export function nativeFrameBits(g: FrameGeometry): number {
  const samples = g.photometricInterpretation === 'YBR_FULL_422' ? 2 : g.samplesPerPixel;
  return g.rows * g.columns * samples * g.bitsAllocated;
}

export interface FrameSpan {
  /** First and last byte (inclusive) of the object holding the frame. */
  start: number;
  end: number;
  /** Bits to drop from the first byte (1-bit frames not on a byte boundary), else 0. */
  bitShift: number;
  /** Length of the frame in bytes once aligned. */
  bytes: number;
}

/** Where frame `frameNumber` (1-based) of a native value lies; NotFound beyond the value's end. */
export function nativeFrameSpan(
  g: FrameGeometry,
  value: { offset: number; length: number },
  frameNumber: number,
): FrameSpan {
  const bits = nativeFrameBits(g);
  const firstBit = (frameNumber - 1) * bits;
  const startByte = Math.floor(firstBit / 8);
  const endByte = Math.ceil((firstBit + bits) / 8) - 1;
  if (frameNumber > g.numberOfFrames || endByte >= value.length) {
    throw new LightboxError('NotFound', 'frame not found');
  }
  return {
    start: value.offset + startByte,
    end: value.offset + endByte,
    bitShift: firstBit % 8,
    bytes: Math.ceil(bits / 8),
  };
}

/** Moves a bit-packed frame to start at bit 0 (LSB first, PS3.5 §8.1.1). */
export function realignBits(covering: Buffer, shift: number, bytes: number): Buffer {
  if (shift === 0) return covering.subarray(0, bytes);
  const out = Buffer.alloc(bytes);
  for (let j = 0; j < bytes; j++) {
    out[j] = ((covering[j] >> shift) | ((covering[j + 1] ?? 0) << (8 - shift))) & 0xff;
  }
  return out;
}

/** Byte-swaps words of `wordSize` (2, 4, 8) in a stream whose chunks may split a word. */
export class SwapBytes extends Transform {
  private carry = Buffer.alloc(0);

  constructor(private readonly wordSize: 2 | 4 | 8) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
    const whole = data.length - (data.length % this.wordSize);
    this.carry = Buffer.from(data.subarray(whole));
    const words = data.subarray(0, whole);
    if (this.wordSize === 2) words.swap16();
    else if (this.wordSize === 4) words.swap32();
    else words.swap64();
    done(null, words);
  }

  override _flush(done: TransformCallback): void {
    done(null, this.carry.length > 0 ? this.carry : undefined);
  }
}

/** Word size to swap for a value of `vr` in a big endian object (OW 2, OF/OL 4, OD/OV 8). */
export function wordSize(vr: string): 1 | 2 | 4 | 8 {
  if (vr === 'OW') return 2;
  if (vr === 'OF' || vr === 'OL') return 4;
  if (vr === 'OD' || vr === 'OV') return 8;
  return 1;
}
