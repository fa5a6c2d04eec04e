/**
 * Where each instance goes on the exported medium (PS3.10 §8.2, PS3.12 media profiles): File IDs of
 * at most 8 components, each at most 8 characters of A–Z, 0–9 and "_". Ours have five:
 * DICOM/Pxxxxx/Sxxxxx/Rxxxxx/Ixxxxx with base-36 counters (60 million per level).
 */
import { LightboxError } from '../../errors.js';
import type { PatientInstance, PatientRecord } from '../patient-instances.js';
import type { DicomdirPatient, DicomdirSeries, DicomdirStudy } from './dicomdir-records.js';

export interface PlacedInstance extends PatientInstance {
  fileId: string[];
}

function component(prefix: string, n: number): string {
  const digits = n.toString(36).toUpperCase();
  if (digits.length > 5) throw new LightboxError('PayloadTooLarge', 'too many files for one level');
  return prefix + digits.padStart(5, '0');
}

/** Checks PS3.10 §8.2 for a File ID (used on every ID we write). */
export function isValidFileId(fileId: readonly string[]): boolean {
  return (
    fileId.length >= 1 && fileId.length <= 8 && fileId.every((c) => /^[A-Z0-9_]{1,8}$/.test(c))
  );
}

/** The directory tree of one patient and each instance's File ID, from ordered index rows. */
export function layOutFileSet(
  record: PatientRecord,
  instances: readonly PatientInstance[],
): { patient: DicomdirPatient; placed: PlacedInstance[] } {
  const patient: DicomdirPatient = {
    PatientID: record.PatientID,
    PatientName: record.PatientName,
    studies: [],
  };
  const placed: PlacedInstance[] = [];
  let study: DicomdirStudy | undefined;
  let series: DicomdirSeries | undefined;
  for (const i of instances) {
    if (study?.StudyInstanceUID !== i.StudyInstanceUID) {
      study = { ...i, series: [] };
      patient.studies.push(study);
      series = undefined;
    }
    if (series?.SeriesInstanceUID !== i.SeriesInstanceUID) {
      series = { ...i, instances: [] };
      study.series.push(series);
    }
    const fileId = [
      'DICOM',
      component('P', 0),
      component('S', patient.studies.length - 1),
      component('R', study.series.length - 1),
      component('I', series.instances.length),
    ];
    if (!isValidFileId(fileId)) throw new LightboxError('Internal', 'invalid File ID');
    series.instances.push({ ...i, fileId });
    placed.push({ ...i, fileId });
  }
  return { patient, placed };
}
