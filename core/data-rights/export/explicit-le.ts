/**
 * Explicit VR Little Endian element encoding (PS3.5 §7.1.2) for the objects Lightbox writes itself
 * (DICOMDIR): header, padding of text values to an even length (PS3.5 §6.2), items of explicit length.
 */
import { encodeHeader, encodeItemHeader, ITEM, padded } from '../deidentify/element-codec.js';

const EXPLICIT_LITTLE = { explicitVR: true, littleEndian: true };

export function encodeElement(tag: number, vr: string, value: Buffer): Buffer {
  return Buffer.concat([encodeHeader(tag, vr, value.length, EXPLICIT_LITTLE), value]);
}

/** Text of a VR: values joined by backslash, UI padded with NUL and others with a space. */
export function encodeText(value: string | string[], vr: string): Buffer {
  return padded(Buffer.from([value].flat().join('\\'), 'utf8'), vr);
}

/** An item (FFFE,E000) of explicit length. */
export function item(content: Buffer): Buffer {
  return Buffer.concat([encodeItemHeader(ITEM, content.length, EXPLICIT_LITTLE), content]);
}

/** A UUID as a UID under 2.25 (PS3.5 §B.2). */
export function uuidUID(uuid: string): string {
  return `2.25.${BigInt(`0x${uuid.replaceAll('-', '')}`).toString()}`;
}
