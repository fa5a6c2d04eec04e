/**
 * Explicit VR Little Endian element encoding (PS3.5 §7.1.2) for the objects Lightbox writes itself
 * (DICOMDIR): header, padding of text values to an even length (PS3.5 §6.2), items of explicit length.
 */

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

export function encodeElement(tag: number, vr: string, value: Buffer): Buffer {
  const long = LONG.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** Text of a VR: values joined by backslash, UI padded with NUL and others with a space. */
export function encodeText(value: string | string[], vr: string): Buffer {
  const text = [value].flat().join('\\');
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length % 2 === 0) return bytes;
  return Buffer.concat([bytes, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
}

/** An item (FFFE,E000) of explicit length. */
export function item(content: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt16LE(0xe000, 2);
  header.writeUInt32LE(content.length, 4);
  return Buffer.concat([header, content]);
}

/** A UUID as a UID under 2.25 (PS3.5 §B.2). */
export function uuidUID(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replaceAll('-', '')}`).toString()}`;
}
