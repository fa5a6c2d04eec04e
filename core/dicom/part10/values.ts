/**
 * One element value → its DICOM JSON form (PS3.18 §F.2): strings, PN objects, JSON numbers, AT as
 * "GGGGEEEE", binary as InlineBinary (base64 of the little endian bytes). This runs for every
 * attribute of every received instance, so it avoids regular expressions and intermediate arrays.
 */
import type { DicomJsonAttribute } from '../../archive/index-store.js';
import type { TextDecode } from './character-sets.js';
import type { VRInfo } from './vr.js';

/** Binary values up to this size are inlined; larger ones get `BulkDataURI: ''` (filled in later). */
export const INLINE_BINARY_MAX = 1024;

/** Decodes `b[start, end)` as a value of `info.vr`. */
export function decodeValue(
  info: VRInfo,
  b: Buffer,
  start: number,
  end: number,
  littleEndian: boolean,
  decodeText: TextDecode,
): DicomJsonAttribute {
  const { vr } = info;
  if (end === start) return { vr };
  switch (info.kind) {
    case 'number':
      return withValues(vr, binaryNumbers(vr, info.size, b, start, end, littleEndian));
    case 'tag':
      return withValues(vr, attributeTags(b, start, end, littleEndian));
    case 'binary':
      return {
        vr,
        InlineBinary: littleEndianCopy(info.size, b.subarray(start, end), littleEndian),
      };
    case 'ascii':
    case 'decimal':
      return withValues(vr, strings(b.toString('latin1', start, end), info));
    case 'text':
      return withValues(vr, strings(decodeText(b.subarray(start, end), false), info));
    case 'person':
      return withValues(vr, strings(decodeText(b.subarray(start, end), true), info));
    default:
      throw new Error(`no value decoder for ${vr}`);
  }
}

function withValues(vr: string, values: unknown[] | undefined): DicomJsonAttribute {
  return values === undefined || values.length === 0 ? { vr } : { vr, Value: values };
}

/**
 * Splits on backslash (PS3.5 §6.4) and drops insignificant padding. IS/DS become numbers, PN objects;
 * empty values become null (PS3.18 §F.2.5), and a value with nothing left is undefined (no `Value`).
 */
function strings(text: string, info: VRInfo): unknown[] | undefined {
  if (info.singleValued || text.indexOf('\\') === -1) {
    const value = convert(trim(text, info.trimLeading), info.kind);
    return value === null ? undefined : [value];
  }
  const parts: unknown[] = text.split('\\');
  let any = false;
  for (let i = 0; i < parts.length; i++) {
    const value = convert(trim(parts[i] as string, info.trimLeading), info.kind);
    parts[i] = value;
    if (value !== null) any = true;
  }
  return any ? parts : undefined;
}

function convert(s: string, kind: VRInfo['kind']): unknown {
  if (s === '') return null;
  if (kind === 'decimal') return numberOrNull(s);
  if (kind === 'person') return personName(s);
  return s;
}

/** Strips trailing (and, for `leading`, leading) spaces and NULs (PS3.5 §6.2 padding). */
function trim(s: string, leading: boolean): string {
  let end = s.length;
  while (end > 0 && isPadding(s.charCodeAt(end - 1), false)) end--;
  let start = 0;
  if (leading) while (start < end && isPadding(s.charCodeAt(start), false)) start++;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function isPadding(c: number, caret: boolean): boolean {
  return c === 0x20 || c === 0 || (caret && c === 0x5e);
}

/** IS and DS are JSON numbers (PS3.18 §F.2.3); a non-numeric string becomes null. */
function numberOrNull(s: string): number | null {
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * PS3.18 §F.2.2: {Alphabetic, Ideographic, Phonetic}, empty component groups left out. Trailing empty
 * components are insignificant (PS3.5 §6.2.1.1): "Doe^John^^" is "Doe^John", "^^^^" is empty.
 */
function personName(s: string): Record<string, string> | null {
  const groups = s.split('=');
  const name: Record<string, string> = {};
  const alphabetic = trimCarets(groups[0]);
  if (alphabetic) name.Alphabetic = alphabetic;
  const ideographic = groups.length > 1 ? trimCarets(groups[1]) : '';
  if (ideographic) name.Ideographic = ideographic;
  const phonetic = groups.length > 2 ? trimCarets(groups[2]) : '';
  if (phonetic) name.Phonetic = phonetic;
  return alphabetic || ideographic || phonetic ? name : null;
}

function trimCarets(s: string): string {
  let end = s.length;
  while (end > 0 && isPadding(s.charCodeAt(end - 1), true)) end--;
  return end === s.length ? s : s.slice(0, end);
}

function binaryNumbers(
  vr: string,
  size: number,
  b: Buffer,
  start: number,
  end: number,
  le: boolean,
): unknown[] {
  const values: unknown[] = [];
  for (let o = start; o + size <= end; o += size) {
    switch (vr) {
      case 'US':
        values.push(le ? b.readUInt16LE(o) : b.readUInt16BE(o));
        break;
      case 'SS':
        values.push(le ? b.readInt16LE(o) : b.readInt16BE(o));
        break;
      case 'UL':
        values.push(le ? b.readUInt32LE(o) : b.readUInt32BE(o));
        break;
      case 'SL':
        values.push(le ? b.readInt32LE(o) : b.readInt32BE(o));
        break;
      case 'FL':
        values.push(shortestFloat32(le ? b.readFloatLE(o) : b.readFloatBE(o)));
        break;
      case 'FD':
        values.push(finiteOrNull(le ? b.readDoubleLE(o) : b.readDoubleBE(o)));
        break;
      case 'SV':
        values.push(bigNumber(le ? b.readBigInt64LE(o) : b.readBigInt64BE(o)));
        break;
      case 'UV':
        values.push(bigNumber(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)));
        break;
    }
  }
  return values;
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

/**
 * The shortest decimal that reads back as the same float32: 0.1, not 0.10000000149011612. Whether a
 * precision round-trips is monotonic in the precision, so a binary search over 1…9 digits finds it.
 */
function shortestFloat32(n: number): number | null {
  if (!Number.isFinite(n)) return null;
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return n;
  let low = 1;
  let high = 9; // 9 significant digits always round-trip a float32
  while (low < high) {
    const mid = (low + high) >> 1;
    if (Math.fround(Number(n.toPrecision(mid))) === n) high = mid;
    else low = mid + 1;
  }
  return Number(n.toPrecision(low));
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** SV/UV beyond ±2^53 are JSON strings (PS3.18 §F.2.3.1). */
function bigNumber(n: bigint): number | string {
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n.toString();
}

function attributeTags(b: Buffer, start: number, end: number, le: boolean): string[] {
  const values: string[] = [];
  for (let o = start; o + 4 <= end; o += 4) {
    const group = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
    const element = le ? b.readUInt16LE(o + 2) : b.readUInt16BE(o + 2);
    values.push(hex4(group) + hex4(element));
  }
  return values;
}

export function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** DICOM JSON carries binary values little endian: swap the words of big endian OW/OF/OL/OD/OV. */
function littleEndianCopy(word: number, bytes: Buffer, littleEndian: boolean): string {
  if (littleEndian || word === 1) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  const view = copy.subarray(0, copy.length - (copy.length % word));
  if (word === 2) view.swap16();
  else if (word === 4) view.swap32();
  else view.swap64();
  return copy.toString('base64');
}
