/**
 * Our DICOMDIR writer (PS3.10 §8, PS3.3 Annex F): a Media Storage Directory Storage object
 * (1.2.840.10008.1.3.10) in Explicit VR Little Endian, whose Directory Record Sequence (0004,1220)
 * holds the records depth first (patient, its first study, its first series, its images, …), each
 * linked to its next sibling (0004,1400) and its first child (0004,1420) by byte offsets from the
 * start of the file (PS3.3 §F.3.2.1). Every record has a fixed size once its keys are known, so the
 * offsets are computed in one pass and the file is written once.
 */
import { randomUUID } from 'node:crypto';
import { encodeFileMetaInformation } from '../../dicom/part10-meta.js';
import {
  instanceKeys,
  leafRecordType,
  patientKeys,
  seriesKeys,
  studyKeys,
  type DicomdirPatient,
  type RecordKey,
} from './dicomdir-records.js';
import { encodeElement, encodeText, item, uuidUID } from './explicit-le.js';

export const MEDIA_STORAGE_DIRECTORY_STORAGE = '1.2.840.10008.1.3.10';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const UNDEFINED = 0xffffffff;

interface DirectoryRecord {
  type: string;
  keys: RecordKey[];
  children: DirectoryRecord[];
  /** Filled in by layout(): absolute byte offset of the item tag. */
  offset?: number;
  size?: number;
}

function tree(patients: DicomdirPatient[]): DirectoryRecord[] {
  return patients.map((p) => ({
    type: 'PATIENT',
    keys: patientKeys(p),
    children: p.studies.map((st) => ({
      type: 'STUDY',
      keys: studyKeys(st),
      children: st.series.map((se) => ({
        type: 'SERIES',
        keys: seriesKeys(se),
        children: se.instances.map((i) => ({
          type: leafRecordType(i.SOPClassUID),
          keys: instanceKeys(i),
          children: [],
        })),
      })),
    })),
  }));
}

/** A record's item: link fields (fixed size) first, then its keys in tag order. */
function encodeRecord(record: DirectoryRecord, next: number, lower: number): Buffer {
  const utf8 = record.keys.some((k) => /[^\x20-\x7e]/.test([k.value].flat().join('')));
  const ul = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
  const elements = [
    encodeElement(0x00041400, 'UL', ul(next)),
    encodeElement(0x00041410, 'US', Buffer.from([0xff, 0xff])),
    encodeElement(0x00041420, 'UL', ul(lower)),
    encodeElement(0x00041430, 'CS', encodeText(record.type, 'CS')),
  ];
  const keys = [...record.keys];
  if (utf8) keys.push({ tag: 0x00080005, vr: 'CS', value: 'ISO_IR 192' });
  keys.sort((a, b) => a.tag - b.tag);
  for (const key of keys)
    elements.push(encodeElement(key.tag, key.vr, encodeText(key.value, key.vr)));
  return item(Buffer.concat(elements));
}

function flatten(records: DirectoryRecord[]): DirectoryRecord[] {
  return records.flatMap((r) => [r, ...flatten(r.children)]);
}

/**
 * The DICOMDIR file of these patients, as one buffer (its size grows with the number of files, not
 * with their bytes: about 400 bytes per image).
 */
export function writeDicomdir(patients: DicomdirPatient[], fileSetID = 'LIGHTBOX'): Buffer {
  const roots = tree(patients);
  const all = flatten(roots);
  const meta = encodeFileMetaInformation({
    MediaStorageSOPClassUID: MEDIA_STORAGE_DIRECTORY_STORAGE,
    MediaStorageSOPInstanceUID: uuidUID(randomUUID()),
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
  });
  const head = (first: number, last: number) =>
    Buffer.concat([
      encodeElement(0x00041130, 'CS', encodeText(fileSetID, 'CS')),
      encodeElement(0x00041200, 'UL', Buffer.from(new Uint32Array([first]).buffer)),
      encodeElement(0x00041202, 'UL', Buffer.from(new Uint32Array([last]).buffer)),
      encodeElement(0x00041212, 'US', Buffer.from([0, 0])),
    ]);
  // Sequence header: tag, "SQ", reserved, undefined length; items follow, then the delimiter.
  const sequenceHeader = encodeElement(0x00041220, 'SQ', Buffer.alloc(0)).subarray(0, 12);
  sequenceHeader.writeUInt32LE(UNDEFINED, 8);
  let position = meta.length + head(0, 0).length + sequenceHeader.length;
  for (const record of all) {
    record.offset = position;
    record.size = encodeRecord(record, 0, 0).length;
    position += record.size;
  }
  const siblings = (list: DirectoryRecord[]) =>
    list.forEach((r, i) => {
      (r as { next?: number }).next = list[i + 1]?.offset ?? 0;
      siblings(r.children);
    });
  siblings(roots);
  const items = all.map((r) =>
    encodeRecord(r, (r as { next?: number }).next ?? 0, r.children[0]?.offset ?? 0),
  );
  const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([
    meta,
    head(roots[0]?.offset ?? 0, roots.at(-1)?.offset ?? 0),
    sequenceHeader,
    ...items,
    delimiter,
  ]);
}
