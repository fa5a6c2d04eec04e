/**
 * Value Representations (PS3.5 §6.2) as the header reader needs them: which explicit-VR headers have a
 * 4-byte length, which values are binary, and the VR of a tag in implicit VR transfer syntaxes, where
 * the data dictionary (PS3.6 §6) is the only source.
 */
import { createRequire } from 'node:module';

/** How a VR's value is decoded into DICOM JSON (PS3.18 §F.2). */
export type VRKind =
  | 'ascii' // default repertoire text: AE AS CS DA DT TM UI UR
  | 'text' // SpecificCharacterSet text: LO LT SH ST UC UT (PS3.5 §6.1.2.3)
  | 'person' // PN
  | 'decimal' // IS DS: text that DICOM JSON carries as numbers
  | 'number' // US SS UL SL FL FD SV UV
  | 'tag' // AT
  | 'binary' // OB OD OF OL OV OW UN: InlineBinary or BulkDataURI
  | 'sequence'; // SQ

export interface VRInfo {
  vr: string;
  kind: VRKind;
  /** Explicit VR header with 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2, Table 7.1-1). */
  longLength: boolean;
  /** Bytes per number (binary numbers; words of OW/OF/OL/OD/OV for byte swapping); else 0. */
  size: number;
  /** Backslash is a character, not a value delimiter (LT, ST, UR, UT: PS3.5 §6.4). */
  singleValued: boolean;
  /** Leading spaces are insignificant too (PS3.5 Table 6.2-1); trailing ones always are. */
  trimLeading: boolean;
}

/** VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length (PS3.5 §7.1.2). */
export const LONG_LENGTH_VRS: ReadonlySet<string> = new Set([
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

function info(vr: string, kind: VRKind, size = 0): VRInfo {
  return {
    vr,
    kind,
    longLength: LONG_LENGTH_VRS.has(vr),
    size,
    singleValued: ['LT', 'ST', 'UR', 'UT'].includes(vr),
    trimLeading: ['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'PN', 'SH', 'TM', 'UI'].includes(
      vr,
    ),
  };
}

/** Every VR of PS3.5 Table 6.2-1. Anything else in an explicit VR header is a malformed element. */
export const VRS: ReadonlyMap<string, VRInfo> = new Map(
  [
    ...['AE', 'AS', 'CS', 'DA', 'DT', 'TM', 'UI', 'UR'].map((vr) => info(vr, 'ascii')),
    ...['LO', 'LT', 'SH', 'ST', 'UC', 'UT'].map((vr) => info(vr, 'text')),
    info('PN', 'person'),
    info('IS', 'decimal'),
    info('DS', 'decimal'),
    info('US', 'number', 2),
    info('SS', 'number', 2),
    info('UL', 'number', 4),
    info('SL', 'number', 4),
    info('FL', 'number', 4),
    info('FD', 'number', 8),
    info('SV', 'number', 8),
    info('UV', 'number', 8),
    info('AT', 'tag', 4),
    info('OB', 'binary', 1),
    info('UN', 'binary', 1),
    info('OW', 'binary', 2),
    info('OF', 'binary', 4),
    info('OL', 'binary', 4),
    info('OD', 'binary', 8),
    info('OV', 'binary', 8),
    info('SQ', 'sequence'),
  ].map((i) => [i.vr, i]),
);

/** The same table keyed by the two VR bytes of an explicit VR header, `first << 8 | second`. */
export const VRS_BY_CODE: ReadonlyMap<number, VRInfo> = new Map(
  [...VRS.values()].map((i) => [(i.vr.charCodeAt(0) << 8) | i.vr.charCodeAt(1), i]),
);

/**
 * Maximum length of one value, in characters (PS3.5 Table 6.2-1), for the text VRs that have one.
 * PN's limit is per component group.
 */
export const MAX_VALUE_LENGTH: Readonly<Record<string, number>> = {
  AE: 16,
  AS: 4,
  CS: 16,
  DA: 8,
  DS: 16,
  DT: 26,
  IS: 12,
  LO: 64,
  PN: 64,
  SH: 16,
  ST: 1024,
  TM: 14,
  UI: 64,
};

interface DcmjsDictionary {
  data: { DicomMetaDictionary: { dictionary: Record<string, { vr?: string } | undefined> } };
}

let dictionary: DcmjsDictionary['data']['DicomMetaDictionary']['dictionary'] | undefined;
const implicitVRCache = new Map<number, string>();

/**
 * The VR of a tag in an implicit VR data set (PS3.5 §7.1.3), from the PS3.6 dictionary that ships
 * with dcmjs (loaded on first use: most explicit VR files never pay for it). Where PS3.6 lists
 * alternatives the binary one wins ("OB or OW" → OW, as PS3.5 §A.1 prescribes for pixel data; "US
 * or OW" LUT data → OW); "US or SS" comes back as 'xs' for the caller to resolve. Unknown and
 * private tags are UN, except group lengths (UL) and private creators (LO, PS3.5 §7.8.1).
 */
export function implicitVR(tag: number): string {
  let vr = implicitVRCache.get(tag);
  if (vr === undefined) {
    vr = lookUpVR(tag);
    implicitVRCache.set(tag, vr);
  }
  return vr;
}

function lookUpVR(tag: number): string {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (element === 0) return 'UL';
  if (group & 1) return element >= 0x10 && element <= 0xff ? 'LO' : 'UN';
  dictionary ??= (createRequire(import.meta.url)('dcmjs') as DcmjsDictionary).data
    .DicomMetaDictionary.dictionary;
  const vr = dictionary[tag.toString(16).toUpperCase().padStart(8, '0')]?.vr;
  switch (vr) {
    case undefined:
    case 'na':
      return 'UN';
    case 'ox': // OB or OW
    case 'lt': // US or SS or OW
      return 'OW';
    case 'xs': // US or SS: the parser decides from PixelRepresentation
      return 'xs';
    case 'up': // UL, a "pointer" in DICOMDIR records
      return 'UL';
    default:
      return VRS.has(vr) ? vr : 'UN';
  }
}
