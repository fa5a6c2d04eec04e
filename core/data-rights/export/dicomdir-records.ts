/**
 * The basic directory of a File-set (PS3.3 Annex F, §F.3 and §F.5): one PATIENT record per patient,
 * its STUDY records, their SERIES records and one IMAGE (or other leaf) record per file, with the
 * keys Table F.5-1 to F.5-4 require. Input comes from the index, never from the files' bytes.
 */

export interface DicomdirInstance {
  /** Referenced File ID (0004,1500): path components of ≤ 8 characters A–Z 0–9 _ (PS3.10 §8.2). */
  fileId: string[];
  SOPClassUID: string;
  SOPInstanceUID: string;
  TransferSyntaxUID: string;
  InstanceNumber: number | null;
}

export interface DicomdirSeries {
  SeriesInstanceUID: string;
  Modality: string;
  SeriesNumber: number | null;
  instances: DicomdirInstance[];
}

export interface DicomdirStudy {
  StudyInstanceUID: string;
  StudyDate: string;
  StudyTime: string;
  StudyDescription: string;
  StudyID: string;
  AccessionNumber: string;
  series: DicomdirSeries[];
}

export interface DicomdirPatient {
  PatientID: string;
  PatientName: string;
  studies: DicomdirStudy[];
}

/** One directory record's keys (PS3.3 §F.5), as (tag, VR, value) in ascending tag order. */
export interface RecordKey {
  tag: number;
  vr: 'CS' | 'DA' | 'TM' | 'SH' | 'LO' | 'PN' | 'UI' | 'IS';
  value: string | string[];
}

/**
 * Directory Record Type (0004,1430) of a leaf by SOP Class (PS3.3 Table F.4-1): images are IMAGE,
 * the other composite objects have their own record types.
 */
export function leafRecordType(SOPClassUID: string): string {
  if (SOPClassUID.startsWith('1.2.840.10008.5.1.4.1.1.88.')) return 'SR DOCUMENT';
  if (SOPClassUID.startsWith('1.2.840.10008.5.1.4.1.1.11.')) return 'PRESENTATION';
  switch (SOPClassUID) {
    case '1.2.840.10008.5.1.4.1.1.481.2':
      return 'RT DOSE';
    case '1.2.840.10008.5.1.4.1.1.481.3':
      return 'RT STRUCTURE SET';
    case '1.2.840.10008.5.1.4.1.1.481.5':
      return 'RT PLAN';
    case '1.2.840.10008.5.1.4.1.1.481.4':
      return 'RT TREAT RECORD';
    case '1.2.840.10008.5.1.4.1.1.66.4':
      return 'SEGMENTATION';
    case '1.2.840.10008.5.1.4.1.1.104.1':
      return 'ENCAP DOC';
    case '1.2.840.10008.5.1.4.1.1.9.1.1':
    case '1.2.840.10008.5.1.4.1.1.9.1.2':
    case '1.2.840.10008.5.1.4.1.1.9.1.3':
      return 'WAVEFORM';
    default:
      return 'IMAGE';
  }
}

const int = (n: number | null) => (n === null ? '' : String(n));

export function patientKeys(p: DicomdirPatient): RecordKey[] {
  return [
    { tag: 0x00100010, vr: 'PN', value: p.PatientName },
    { tag: 0x00100020, vr: 'LO', value: p.PatientID },
  ];
}

export function studyKeys(s: DicomdirStudy): RecordKey[] {
  return [
    { tag: 0x00080020, vr: 'DA', value: s.StudyDate },
    { tag: 0x00080030, vr: 'TM', value: s.StudyTime },
    { tag: 0x00080050, vr: 'SH', value: s.AccessionNumber },
    { tag: 0x00081030, vr: 'LO', value: s.StudyDescription },
    { tag: 0x0020000d, vr: 'UI', value: s.StudyInstanceUID },
    { tag: 0x00200010, vr: 'SH', value: s.StudyID },
  ];
}

export function seriesKeys(s: DicomdirSeries): RecordKey[] {
  return [
    { tag: 0x00080060, vr: 'CS', value: s.Modality },
    { tag: 0x0020000e, vr: 'UI', value: s.SeriesInstanceUID },
    { tag: 0x00200011, vr: 'IS', value: int(s.SeriesNumber) },
  ];
}

/** The Referenced File/SOP keys (0004,1500–1512) come first: they are group 0004. */
export function instanceKeys(i: DicomdirInstance): RecordKey[] {
  return [
    { tag: 0x00041500, vr: 'CS', value: i.fileId },
    { tag: 0x00041510, vr: 'UI', value: i.SOPClassUID },
    { tag: 0x00041511, vr: 'UI', value: i.SOPInstanceUID },
    { tag: 0x00041512, vr: 'UI', value: i.TransferSyntaxUID },
    { tag: 0x00200013, vr: 'IS', value: int(i.InstanceNumber) },
  ];
}
