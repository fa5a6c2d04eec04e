/**
 * Synthetic DICOM instances for tests and the benchmark corpus: explicit VR little endian Part 10 files
 * made here, so they carry no licence question and no real patient. Large pixel data is written in
 * chunks (or as a sparse hole) so a 2 GB instance never sits in memory.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { encodeFileMetaInformation } from '../../core/dicom/part10-meta.js';

export const CTImageStorage = '1.2.840.10008.5.1.4.1.1.2';
export const MultiFrameGrayscaleWordSCImageStorage = '1.2.840.10008.5.1.4.1.1.7.3';
export const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';

/** A UUID-derived UID (PS3.5 §B.2). */
export function makeUID(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

export interface SyntheticAttributes {
  SOPClassUID?: string;
  SOPInstanceUID?: string;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  PatientID?: string;
  PatientName?: string;
  StudyDate?: string;
  Modality?: string;
  AccessionNumber?: string;
  StudyDescription?: string;
  SeriesNumber?: number;
  InstanceNumber?: number;
  Rows?: number;
  Columns?: number;
  NumberOfFrames?: number;
}

type Element = [group: number, element: number, vr: string, value: Buffer];

function text(value: string, pad = ' '): Buffer {
  return Buffer.from(value.length % 2 ? value + pad : value, 'latin1');
}
function us(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}

function encodeElement([group, element, vr, value]: Element): Buffer {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(element, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** Header elements (everything before PixelData), sorted by tag. */
function headerElements(a: Required<SyntheticAttributes>): Element[] {
  return [
    [0x0008, 0x0016, 'UI', text(a.SOPClassUID, '\0')],
    [0x0008, 0x0018, 'UI', text(a.SOPInstanceUID, '\0')],
    [0x0008, 0x0020, 'DA', text(a.StudyDate)],
    [0x0008, 0x0030, 'TM', text('101500')],
    [0x0008, 0x0050, 'SH', text(a.AccessionNumber)],
    [0x0008, 0x0060, 'CS', text(a.Modality)],
    [0x0008, 0x0090, 'PN', text('')],
    [0x0008, 0x1030, 'LO', text(a.StudyDescription)],
    [0x0010, 0x0010, 'PN', text(a.PatientName)],
    [0x0010, 0x0020, 'LO', text(a.PatientID)],
    [0x0010, 0x0030, 'DA', text('19700101')],
    [0x0010, 0x0040, 'CS', text('O')],
    [0x0020, 0x000d, 'UI', text(a.StudyInstanceUID, '\0')],
    [0x0020, 0x000e, 'UI', text(a.SeriesInstanceUID, '\0')],
    [0x0020, 0x0010, 'SH', text('1')],
    [0x0020, 0x0011, 'IS', text(String(a.SeriesNumber))],
    [0x0020, 0x0013, 'IS', text(String(a.InstanceNumber))],
    [0x0028, 0x0002, 'US', us(1)],
    [0x0028, 0x0004, 'CS', text('MONOCHROME2')],
    [0x0028, 0x0008, 'IS', text(String(a.NumberOfFrames))],
    [0x0028, 0x0010, 'US', us(a.Rows)],
    [0x0028, 0x0011, 'US', us(a.Columns)],
    [0x0028, 0x0100, 'US', us(16)],
    [0x0028, 0x0101, 'US', us(12)],
    [0x0028, 0x0102, 'US', us(11)],
    [0x0028, 0x0103, 'US', us(0)],
  ];
}

function complete(a: SyntheticAttributes): Required<SyntheticAttributes> {
  return {
    SOPClassUID: CTImageStorage,
    SOPInstanceUID: makeUID(),
    PatientID: 'LB-TEST-1',
    PatientName: 'Test^Synthetic',
    StudyDate: '20260101',
    Modality: 'CT',
    AccessionNumber: 'ACC1',
    StudyDescription: 'Synthetic',
    SeriesNumber: 1,
    InstanceNumber: 1,
    Rows: 64,
    Columns: 64,
    NumberOfFrames: 1,
    ...a,
  };
}

/**
 * Encodes a complete Part 10 instance in memory (small instances only). Pixels are random unless
 * given (16-bit little endian, Rows × Columns × NumberOfFrames values).
 */
export function encodeInstance(attributes: SyntheticAttributes, pixelData?: Buffer): Buffer {
  const a = complete(attributes);
  const pixels = pixelData ?? randomBytes(a.Rows * a.Columns * 2 * a.NumberOfFrames);
  return Buffer.concat([
    encodeFileMetaInformation({
      MediaStorageSOPClassUID: a.SOPClassUID,
      MediaStorageSOPInstanceUID: a.SOPInstanceUID,
      TransferSyntaxUID: ExplicitVRLittleEndian,
    }),
    ...headerElements(a).map(encodeElement),
    encodeElement([0x7fe0, 0x0010, 'OW', pixels]),
  ]);
}

/**
 * Writes an instance whose pixel data is `Rows × Columns × 2 × NumberOfFrames` bytes, streamed in 1 MiB
 * random chunks, or left as a sparse hole of zeros (`sparse`), for multi-GB files.
 */
export async function writeInstanceFile(
  path: string,
  attributes: SyntheticAttributes,
  options: { sparse?: boolean } = {},
): Promise<{ size: number; SOPInstanceUID: string }> {
  const a = complete(attributes);
  const pixelBytes = a.Rows * a.Columns * 2 * a.NumberOfFrames;
  if (pixelBytes >= 0xffffffff) throw new Error('pixel data must be under 4 GiB');
  const pixelHeader = encodeElement([0x7fe0, 0x0010, 'OW', Buffer.alloc(0)]);
  pixelHeader.writeUInt32LE(pixelBytes, 8);
  const head = Buffer.concat([
    encodeFileMetaInformation({
      MediaStorageSOPClassUID: a.SOPClassUID,
      MediaStorageSOPInstanceUID: a.SOPInstanceUID,
      TransferSyntaxUID: ExplicitVRLittleEndian,
    }),
    ...headerElements(a).map(encodeElement),
    pixelHeader,
  ]);
  const handle = await open(path, 'w');
  try {
    await handle.write(head);
    if (options.sparse) {
      await handle.truncate(head.length + pixelBytes);
    } else {
      const chunk = randomBytes(1024 * 1024);
      for (let left = pixelBytes; left > 0; left -= chunk.length) {
        await handle.write(chunk, 0, Math.min(chunk.length, left));
      }
    }
  } finally {
    await handle.close();
  }
  return { size: head.length + pixelBytes, SOPInstanceUID: a.SOPInstanceUID };
}
