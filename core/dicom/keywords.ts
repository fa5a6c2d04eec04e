/**
 * Tags by DICOM keyword (PS3.6 §6, §7), in the DICOM JSON key form "GGGGEEEE" (PS3.18 §F.2.1.1).
 * Only the attributes Lightbox reads by name; the full dictionary is PS3.6's, not ours.
 */
export const Tag = {
  // File Meta Information (PS3.10 §7.1)
  MediaStorageSOPClassUID: '00020002',
  MediaStorageSOPInstanceUID: '00020003',
  TransferSyntaxUID: '00020010',
  ImplementationClassUID: '00020012',
  SourceApplicationEntityTitle: '00020016',
  // Data set
  SpecificCharacterSet: '00080005',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ReferringPhysicianName: '00080090',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  IssuerOfPatientID: '00100021',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelRepresentation: '00280103',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
  PixelData: '7FE00010',
} as const;

export type Keyword = keyof typeof Tag;

/** The numeric form of a tag, group in the high 16 bits, as the binary parser sees it. */
export function tagNumber(keyword: Keyword): number {
  return parseInt(Tag[keyword], 16);
}
