/**
 * PS3.10 §7.1 File Meta Information: the 128-byte preamble, "DICM" and group 0002, always explicit VR
 * little endian. The gateway writes it in front of the data set bytes exactly as they came off the wire
 * (PS3.10 §7.1: the data set that follows is encoded in TransferSyntaxUID); the spool reads it back to
 * describe a file without parsing the data set.
 */
import { LightboxError } from '../errors.js';
import { LONG_LENGTH_VRS } from './part10/vr.js';
import { trimUID } from './uid.js';

/** Lightbox's Implementation Class UID (PS3.7 §D.3.3.2), a UUID-derived UID under 2.25 (PS3.5 §B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.260151365553176669694213590342559158690';
export const IMPLEMENTATION_VERSION_NAME = 'LIGHTBOX_010';

export const PREAMBLE_LENGTH = 128;
const DICM = Buffer.from('DICM', 'latin1');

export interface FileMetaInformation {
  MediaStorageSOPClassUID: string;
  MediaStorageSOPInstanceUID: string;
  TransferSyntaxUID: string;
  ImplementationClassUID?: string;
  ImplementationVersionName?: string;
  SourceApplicationEntityTitle?: string;
}

function element(element: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(element, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** UI values are padded with NUL, other strings with a space, to an even length (PS3.5 §6.2). */
function padded(value: string, pad: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : value + pad, 'latin1');
}

/** Preamble + "DICM" + group 0002 with its group length, ready to be followed by the data set bytes. */
export function encodeFileMetaInformation(meta: FileMetaInformation): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', padded(meta.MediaStorageSOPClassUID, '\0')),
    element(0x0003, 'UI', padded(meta.MediaStorageSOPInstanceUID, '\0')),
    element(0x0010, 'UI', padded(meta.TransferSyntaxUID, '\0')),
    element(0x0012, 'UI', padded(meta.ImplementationClassUID ?? IMPLEMENTATION_CLASS_UID, '\0')),
    element(
      0x0013,
      'SH',
      padded(meta.ImplementationVersionName ?? IMPLEMENTATION_VERSION_NAME, ' '),
    ),
  ];
  if (meta.SourceApplicationEntityTitle) {
    elements.push(element(0x0016, 'AE', padded(meta.SourceApplicationEntityTitle, ' ')));
  }
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([
    Buffer.alloc(PREAMBLE_LENGTH),
    DICM,
    element(0x0000, 'UL', groupLength),
    body,
  ]);
}

const KEYWORDS: Record<number, keyof FileMetaInformation> = {
  0x0002: 'MediaStorageSOPClassUID',
  0x0003: 'MediaStorageSOPInstanceUID',
  0x0010: 'TransferSyntaxUID',
  0x0012: 'ImplementationClassUID',
  0x0013: 'ImplementationVersionName',
  0x0016: 'SourceApplicationEntityTitle',
};

/**
 * Reads group 0002 from the start of a Part 10 file. `head` must hold at least the whole meta group;
 * returns the meta and the offset at which the data set starts, or throws InvalidDataset.
 */
export function decodeFileMetaInformation(head: Buffer): {
  meta: FileMetaInformation;
  datasetOffset: number;
} {
  if (head.length < PREAMBLE_LENGTH + 4 || !head.subarray(128, 132).equals(DICM)) {
    throw new LightboxError('InvalidDataset', 'not a DICOM Part 10 file (no DICM prefix)');
  }
  const values: Partial<Record<keyof FileMetaInformation, string>> = {};
  let offset = PREAMBLE_LENGTH + 4;
  while (offset + 8 <= head.length && head.readUInt16LE(offset) === 0x0002) {
    const elementNumber = head.readUInt16LE(offset + 2);
    const vr = head.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let valueOffset: number;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (offset + 12 > head.length) break;
      length = head.readUInt32LE(offset + 8);
      valueOffset = offset + 12;
    } else {
      length = head.readUInt16LE(offset + 6);
      valueOffset = offset + 8;
    }
    if (length === 0xffffffff || valueOffset + length > head.length) {
      throw new LightboxError('InvalidDataset', 'File Meta Information is truncated or malformed');
    }
    const keyword = KEYWORDS[elementNumber];
    if (keyword) {
      values[keyword] = trimUID(head.toString('latin1', valueOffset, valueOffset + length)).trim();
    }
    offset = valueOffset + length;
  }
  if (offset + 8 > head.length && offset < head.length) {
    throw new LightboxError('InvalidDataset', 'File Meta Information is truncated');
  }
  const { MediaStorageSOPClassUID, MediaStorageSOPInstanceUID, TransferSyntaxUID } = values;
  if (!MediaStorageSOPClassUID || !MediaStorageSOPInstanceUID || !TransferSyntaxUID) {
    throw new LightboxError(
      'InvalidDataset',
      'File Meta Information lacks MediaStorageSOPClassUID, MediaStorageSOPInstanceUID or TransferSyntaxUID',
    );
  }
  return {
    meta: { ...values, MediaStorageSOPClassUID, MediaStorageSOPInstanceUID, TransferSyntaxUID },
    datasetOffset: offset,
  };
}
