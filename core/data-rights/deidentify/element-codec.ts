/**
 * Element headers of a data set in its transfer syntax (PS3.5 §7.1): explicit or implicit VR, little
 * or big endian. The de-identifying transform re-encodes every header it writes (values keep their
 * bytes), so that changed lengths, and sequences rewritten with undefined length, stay consistent.
 */
import type { Syntax } from '../../dicom/part10/dataset-parser.js';
import { implicitVR } from '../../dicom/part10/vr.js';
import { LightboxError } from '../../errors.js';
import type { StreamReader } from './stream-reader.js';

export const UNDEFINED = 0xffffffff;
export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;

const LONG = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

export interface ElementHeader {
  tag: number;
  vr: string;
  length: number;
}

export async function readTag(reader: StreamReader, syntax: Syntax): Promise<number> {
  const b = await reader.read(4);
  return syntax.littleEndian
    ? ((b.readUInt16LE(0) << 16) | b.readUInt16LE(2)) >>> 0
    : ((b.readUInt16BE(0) << 16) | b.readUInt16BE(2)) >>> 0;
}

export async function readLength32(reader: StreamReader, syntax: Syntax): Promise<number> {
  const b = await reader.read(4);
  return syntax.littleEndian ? b.readUInt32LE(0) : b.readUInt32BE(0);
}

/** VR and length after a data element's tag. */
export async function readHeader(
  reader: StreamReader,
  syntax: Syntax,
  tag: number,
): Promise<ElementHeader> {
  if (!syntax.explicitVR) {
    const vr = implicitVR(tag);
    return { tag, vr: vr === 'xs' ? 'US' : vr, length: await readLength32(reader, syntax) };
  }
  const vr = (await reader.read(2)).toString('latin1');
  if (!/^[A-Z]{2}$/.test(vr)) throw new LightboxError('InvalidDataset', 'malformed VR');
  if (LONG.has(vr)) {
    await reader.read(2);
    return { tag, vr, length: await readLength32(reader, syntax) };
  }
  const b = await reader.read(2);
  return { tag, vr, length: syntax.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0) };
}

function tagBytes(tag: number, syntax: Syntax): Buffer {
  const b = Buffer.alloc(4);
  if (syntax.littleEndian) {
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
  } else {
    b.writeUInt16BE(tag >>> 16, 0);
    b.writeUInt16BE(tag & 0xffff, 2);
  }
  return b;
}

function uint32(n: number, syntax: Syntax): Buffer {
  const b = Buffer.alloc(4);
  if (syntax.littleEndian) b.writeUInt32LE(n, 0);
  else b.writeUInt32BE(n, 0);
  return b;
}

export function encodeHeader(tag: number, vr: string, length: number, syntax: Syntax): Buffer {
  if (!syntax.explicitVR) return Buffer.concat([tagBytes(tag, syntax), uint32(length, syntax)]);
  if (LONG.has(vr)) {
    return Buffer.concat([
      tagBytes(tag, syntax),
      Buffer.from(`${vr}\0\0`, 'latin1'),
      uint32(length, syntax),
    ]);
  }
  const len = Buffer.alloc(2);
  if (syntax.littleEndian) len.writeUInt16LE(length, 0);
  else len.writeUInt16BE(length, 0);
  return Buffer.concat([tagBytes(tag, syntax), Buffer.from(vr, 'latin1'), len]);
}

/** An item, item delimitation or sequence delimitation header (always tag + 32-bit length). */
export function encodeItemHeader(tag: number, length: number, syntax: Syntax): Buffer {
  return Buffer.concat([tagBytes(tag, syntax), uint32(length, syntax)]);
}

/** A text value padded to an even length (UI with NUL, others with a space; PS3.5 §6.2). */
export function padded(value: Buffer, vr: string): Buffer {
  if (value.length % 2 === 0) return value;
  return Buffer.concat([value, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
}
