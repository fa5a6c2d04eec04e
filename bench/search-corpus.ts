/**
 * The search corpus of the DICOMweb benchmark: many small studies, so that QIDO has something to
 * search through (the CT corpus has only 7 studies). Each study has two series of one 16 × 16
 * instance: the patient name, study date, modalities and description vary deterministically, the
 * way a clinic's worklist does, so that OHIF's study-list queries (PatientName wildcard, StudyDate
 * range, ModalitiesInStudy) match a realistic fraction of them.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeInstanceFile } from '../test/helpers/synthetic.js';
import { CORPUS_ROOT, derivedUID } from './corpus.js';

const MANIFEST_VERSION = 2;
const FAMILY_NAMES = [
  'Smith', 'Jones', 'Garcia', 'Martin', 'Dubois', 'Muller', 'Rossi', 'Novak', 'Silva', 'Kowalski',
  'Jensen', 'Nagy', 'Popescu', 'Horvat', 'Berg', 'Moreau', 'Costa', 'Weber', 'Ivanova', 'Keller',
]; // prettier-ignore
const GIVEN_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Eva', 'Farid', 'Grace', 'Hugo', 'Ines'];
const MODALITY_PAIRS = [
  ['CT', 'SR'],
  ['MR', 'MR'],
  ['CR', 'CR'],
  ['US', 'SR'],
  ['CT', 'PT'],
  ['MG', 'MG'],
  ['DX', 'SR'],
];
const DESCRIPTIONS = ['Chest', 'Head', 'Abdomen', 'Knee', 'Spine', 'Pelvis', 'Breast'];

export interface SearchCorpus {
  version: number;
  directory: string;
  studies: number;
  instances: number;
}

/** What study `i` of the search corpus holds (also what the benchmark's queries are built from). */
export function searchStudy(i: number) {
  // 180 patients (20 family × 9 given names), each with about 11 studies under one PatientID.
  const patient = i % (FAMILY_NAMES.length * GIVEN_NAMES.length);
  const family = FAMILY_NAMES[patient % FAMILY_NAMES.length];
  const given = GIVEN_NAMES[Math.floor(patient / FAMILY_NAMES.length)];
  // Dates spread over 2019-01-01 … 2026-12-28, about one study a day (day of year 1..364).
  const year = 2019 + (i % 8);
  const day = 1 + ((i * 37) % 364);
  const date = new Date(Date.UTC(year, 0, day));
  const StudyDate = date.toISOString().slice(0, 10).replace(/-/g, '');
  return {
    StudyInstanceUID: derivedUID(`lightbox-bench search study ${i}`),
    PatientID: `LB-SEARCH-${patient + 1}`,
    PatientName: `${family}^${given}`,
    StudyDate,
    AccessionNumber: `SRCH${i + 1}`,
    StudyDescription: DESCRIPTIONS[i % DESCRIPTIONS.length],
    modalities: MODALITY_PAIRS[i % MODALITY_PAIRS.length],
  };
}

/** Generates (or reuses) `studies` studies × 2 series × 1 instance under the corpus root. */
export async function ensureSearchCorpus(
  studies: number,
  log?: (line: string) => void,
): Promise<SearchCorpus> {
  const directory = path.join(CORPUS_ROOT, `search-${studies}`);
  const manifestFile = path.join(directory, 'manifest.json');
  try {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as SearchCorpus;
    const files = (await readdir(directory)).filter((n) => n.endsWith('.dcm'));
    if (manifest.version === MANIFEST_VERSION && files.length === manifest.instances) {
      return manifest;
    }
  } catch {
    // absent or stale: generate below
  }
  log?.(`generating search corpus of ${studies} studies in ${directory}`);
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true });
  for (let i = 0; i < studies; i++) {
    const study = searchStudy(i);
    for (const [s, Modality] of study.modalities.entries()) {
      await writeInstanceFile(path.join(directory, `S${String(i).padStart(5, '0')}-${s}.dcm`), {
        ...study,
        SeriesInstanceUID: derivedUID(`lightbox-bench search series ${i}.${s}`),
        SOPInstanceUID: derivedUID(`lightbox-bench search instance ${i}.${s}`),
        Modality,
        SeriesNumber: s + 1,
        InstanceNumber: 1,
        Rows: 16,
        Columns: 16,
      });
    }
  }
  const manifest: SearchCorpus = {
    version: MANIFEST_VERSION,
    directory,
    studies,
    instances: studies * 2,
  };
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
