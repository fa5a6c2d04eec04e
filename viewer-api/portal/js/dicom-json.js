/**
 * Reading the DICOM JSON model (PS3.18 §F.2): attributes keyed by tag, values in `Value` arrays.
 * Only the attributes the portal shows or needs are named here.
 */
const TAGS = {
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsStored: '00280101',
  PixelRepresentation: '00280103',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
};

/** Every value of an attribute (empty when absent). */
export function values(dataset, keyword) {
  return dataset?.[TAGS[keyword]]?.Value ?? [];
}

/** The first value of an attribute, or undefined. PN values become their Alphabetic form. */
export function value(dataset, keyword) {
  const first = values(dataset, keyword)[0];
  if (first && typeof first === 'object' && 'Alphabetic' in first) return first.Alphabetic;
  return first;
}

/** A number (IS/DS/US values may arrive as strings), or undefined. */
export function number(dataset, keyword) {
  const n = Number(value(dataset, keyword));
  return value(dataset, keyword) === undefined || !Number.isFinite(n) ? undefined : n;
}

/** "Doe^Jane" → "Jane Doe" (PS3.5 §6.2.1: family^given^middle^prefix^suffix). */
export function personName(name) {
  if (!name) return '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = String(name).split('^');
  return [prefix, given, middle, family, suffix].filter(Boolean).join(' ');
}

/** DA "20240131" → a localised date; anything else is shown as it is. */
export function studyDate(da) {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(String(da ?? ''));
  if (!match) return da ? String(da) : 'Date unknown';
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toLocaleDateString(undefined, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });
}
