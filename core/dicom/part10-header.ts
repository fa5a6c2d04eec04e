/**
 * Reads the header of a DICOM Part 10 file (PS3.10 §7): preamble, "DICM", File Meta Information and
 * the data set up to, not including, the pixel data. Only the bytes the header occupies are read:
 * 64 KiB first (the whole header of a typical instance, in one read), then growing ×4; large binary
 * values before the pixel data are skipped, not read. A 2 GB instance costs a few KiB.
 */
import type { DicomJson } from '../archive/index-store.js';
import { LightboxError } from '../errors.js';
import { Tag, tagNumber } from './keywords.js';
import { FileSource, type ByteSource, type KnownHead } from './part10/byte-source.js';
import { DataSetParser, DONE, type Syntax } from './part10/dataset-parser.js';
import { InflateSource } from './part10/inflate-source.js';
import { VRS } from './part10/vr.js';
import { trimUID } from './uid.js';

export interface Part10Header {
  /** File Meta Information (PS3.10 §7.1), UIDs without their padding. */
  meta: {
    TransferSyntaxUID: string;
    MediaStorageSOPClassUID: string;
    MediaStorageSOPInstanceUID: string;
    ImplementationClassUID?: string;
    SourceApplicationEntityTitle?: string;
  };
  /** Byte offset where the data set starts (just after the meta group). */
  datasetOffset: number;
  /**
   * DICOM JSON (PS3.18 §F.2) of the data set attributes before pixel data. Binary values larger
   * than 1 KiB (OB/OW/OF/OD/OL/OV/UN) carry `BulkDataURI: ''`, a placeholder for the viewer API to
   * fill; smaller ones are InlineBinary base64 (little endian). PN values are {Alphabetic,
   * Ideographic?, Phonetic?} objects; numbers (US, SS, UL, SL, FL, FD, IS, DS) are numbers, an
   * unparseable IS/DS value null (no `Value` when nothing is left); AT values are "GGGGEEEE"
   * strings; SQ values arrays of DicomJson. Text is decoded per SpecificCharacterSet, padding
   * removed. Group lengths (gggg,0000) are left out; standard attributes sent as UN get their
   * dictionary VR.
   */
  dataset: DicomJson;
}

export interface ReadPart10HeaderOptions {
  /** Bytes the header may occupy before the file is refused as InvalidDataset. Default 64 MiB. */
  maxHeaderBytes?: number;
  /** Called for every read from the file (position, bytes): for metrics and tests. */
  onRead?: (position: number, bytes: number) => void;
  /** The file's first bytes and size when already in memory: no read unless the header is longer. */
  head?: KnownHead;
}

export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024 * 1024;

const PREAMBLE_LENGTH = 128;
const META_START = PREAMBLE_LENGTH + 4;
const EXPLICIT_LITTLE: Syntax = { explicitVR: true, littleEndian: true };
const PIXEL_DATA_TAGS = new Set(
  (['FloatPixelData', 'DoubleFloatPixelData', 'PixelData'] as const).map(tagNumber),
);
/** Tags ascend (PS3.5 §7.1); from FloatPixelData (7FE0,0008) on, all is pixel data or after it. */
const FIRST_PIXEL_TAG = tagNumber('FloatPixelData');

/**
 * Reads and decodes the header of the Part 10 file at `filePath`.
 *
 * Throws LightboxError 'InvalidDataset' for a file that is not Part 10 (no preamble and "DICM", no
 * TransferSyntaxUID or MediaStorage UIDs in the meta group), is truncated within the header or whose
 * pixel data runs past the end of the file, is malformed, or whose header exceeds `maxHeaderBytes`.
 * File system errors (ENOENT…) are passed through unchanged.
 */
export async function readPart10Header(
  filePath: string,
  options: ReadPart10HeaderOptions = {},
): Promise<Part10Header> {
  const maxBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const sourceOptions = { maxBytes, onRead: options.onRead };
  const file = options.head
    ? FileSource.fromHead(filePath, options.head, sourceOptions)
    : await FileSource.open(filePath, sourceOptions);
  let source: ByteSource = file;
  try {
    if (file.buf.length < META_START + 8 || file.buf.toString('latin1', 128, 132) !== 'DICM') {
      throw new LightboxError('InvalidDataset', 'not a DICOM Part 10 file (no preamble and DICM)');
    }
    const metaParser = new DataSetParser({
      start: META_START,
      syntax: EXPLICIT_LITTLE,
      end: metaGroupEnd(file.buf),
      stopAt: (tag) => tag >>> 16 !== 0x0002,
    });
    await parse(metaParser, file);
    const meta = fileMetaInformation(metaParser.dataset);
    const datasetOffset = metaParser.pos;
    const { syntax, deflated } = transferSyntax(meta.TransferSyntaxUID);
    if (deflated) source = new InflateSource(file, datasetOffset, maxBytes);
    const parser = new DataSetParser({
      start: datasetOffset,
      syntax,
      stopAt: (tag) => tag >= FIRST_PIXEL_TAG,
    });
    await parse(parser, source);
    if (!deflated && parser.stoppedAt !== undefined && PIXEL_DATA_TAGS.has(parser.stoppedAt)) {
      await checkPixelDataLength(file, parser.pos, syntax);
    }
    return { meta, datasetOffset, dataset: parser.dataset };
  } finally {
    if (source !== file) await source.close();
    await file.close();
  }
}

async function parse(parser: DataSetParser, source: ByteSource): Promise<void> {
  for (let need = parser.run(source); need !== DONE; need = parser.run(source)) {
    await source.fill(parser.pos, need);
  }
}

/** End of group 0002 from FileMetaInformationGroupLength, when the file has one (PS3.10 §7.1). */
function metaGroupEnd(head: Buffer): number | undefined {
  const o = META_START;
  const hasGroupLength =
    head.length >= o + 12 &&
    head.readUInt32LE(o) === 0x00000002 &&
    head.toString('latin1', o + 4, o + 6) === 'UL' &&
    head.readUInt16LE(o + 6) === 4;
  return hasGroupLength ? o + 12 + head.readUInt32LE(o + 8) : undefined;
}

function fileMetaInformation(group: DicomJson): Part10Header['meta'] {
  const text = (keyword: keyof typeof Tag): string | undefined => {
    const value = group[Tag[keyword]]?.Value?.[0];
    return typeof value === 'string' && value !== '' ? trimUID(value) : undefined;
  };
  const TransferSyntaxUID = text('TransferSyntaxUID');
  const MediaStorageSOPClassUID = text('MediaStorageSOPClassUID');
  const MediaStorageSOPInstanceUID = text('MediaStorageSOPInstanceUID');
  if (!TransferSyntaxUID || !MediaStorageSOPClassUID || !MediaStorageSOPInstanceUID) {
    throw new LightboxError(
      'InvalidDataset',
      'File Meta Information lacks TransferSyntaxUID, MediaStorageSOPClassUID or MediaStorageSOPInstanceUID',
    );
  }
  const meta: Part10Header['meta'] = {
    TransferSyntaxUID,
    MediaStorageSOPClassUID,
    MediaStorageSOPInstanceUID,
  };
  const ImplementationClassUID = text('ImplementationClassUID');
  const SourceApplicationEntityTitle = text('SourceApplicationEntityTitle');
  if (ImplementationClassUID) meta.ImplementationClassUID = ImplementationClassUID;
  if (SourceApplicationEntityTitle)
    meta.SourceApplicationEntityTitle = SourceApplicationEntityTitle;
  return meta;
}

/**
 * How the data set is encoded (PS3.5 §10, Annex A): implicit VR little endian, explicit VR big endian
 * (retired, still found), deflated explicit VR little endian; every other transfer syntax, native or
 * encapsulated, is explicit VR little endian.
 */
export function transferSyntax(uid: string): { syntax: Syntax; deflated: boolean } {
  switch (uid) {
    case '1.2.840.10008.1.2':
      return { syntax: { explicitVR: false, littleEndian: true }, deflated: false };
    case '1.2.840.10008.1.2.2':
      return { syntax: { explicitVR: true, littleEndian: false }, deflated: false };
    case '1.2.840.10008.1.2.1.99': // Deflated Explicit VR Little Endian
    case '1.2.840.10008.1.2.4.95': // JPIP Referenced Deflate
      return { syntax: EXPLICIT_LITTLE, deflated: true };
    default:
      return { syntax: EXPLICIT_LITTLE, deflated: false };
  }
}

/** A native pixel data value longer than the rest of the file means the file was cut short. */
async function checkPixelDataLength(file: FileSource, at: number, syntax: Syntax): Promise<void> {
  await file.fill(at, 12);
  const o = at - file.start;
  const b = file.buf;
  if (b.length - o < 12) throw new LightboxError('InvalidDataset', 'DICOM file is truncated');
  const le = syntax.littleEndian;
  const long =
    !syntax.explicitVR || VRS.get(b.toString('latin1', o + 4, o + 6))?.longLength === true;
  const headerLength = syntax.explicitVR && long ? 12 : 8;
  const lengthAt = syntax.explicitVR ? (long ? o + 8 : o + 6) : o + 4;
  const length = syntax.explicitVR && !long
    ? (le ? b.readUInt16LE(lengthAt) : b.readUInt16BE(lengthAt))
    : (le ? b.readUInt32LE(lengthAt) : b.readUInt32BE(lengthAt)); // prettier-ignore
  if (length === 0xffffffff) return; // encapsulated: fragments are not walked here
  if (at + headerLength + length > (await file.fileSize())) {
    throw new LightboxError('InvalidDataset', 'DICOM file is truncated within its pixel data');
  }
}
