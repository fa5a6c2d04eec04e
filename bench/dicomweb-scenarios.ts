/**
 * What the DICOMweb benchmark asks, the same for Lightbox and Orthanc: the queries OHIF v3 sends
 * (study list with limit=101, fuzzymatching=false and includefield=00081030,00080060, then the
 * filters its study list offers: PatientName wildcard, StudyDate range, ModalitiesInStudy, paging),
 * the series and instance searches of a study, study and series metadata, study retrieve as stored
 * (transfer-syntax=*) and single frames.
 */
import type { CorpusManifest } from './corpus.js';
import { derivedUID } from './corpus.js';
import type { HttpRequest } from './http-load.js';
import { searchStudy } from './search-corpus.js';

export type ScenarioGroup = 'qido' | 'metadata' | 'retrieve' | 'frames';

export interface Scenario {
  name: string;
  group: ScenarioGroup;
  concurrency: number;
  /** Paths (and queries) under the DICOMweb root, with the Accept header. */
  requests: { path: string; accept: string }[];
}

const JSON_TYPE = 'application/dicom+json';
const STUDY_RETRIEVE = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const FRAMES = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
/** OHIF v3's study list (DicomWebDataSource, qido.js). */
const OHIF_STUDY_LIST = 'limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060';
const FAMILY_PREFIXES = ['Smi', 'Jon', 'Gar', 'Mar', 'Dub', 'Mul', 'Ros', 'Nov', 'Sil', 'Kow'];
const MODALITIES = ['CT', 'MR', 'CR', 'US', 'MG', 'DX', 'PT'];

/** The CT corpus's study and series UIDs, as bench/corpus.ts derives them. */
export function ctHierarchy(corpus: CorpusManifest) {
  const series = Array.from({ length: corpus.series }, (_, s) => {
    const study = Math.floor((s * corpus.studies) / corpus.series);
    const first = Math.ceil((s * corpus.instances) / corpus.series);
    const end = Math.ceil(((s + 1) * corpus.instances) / corpus.series);
    return {
      StudyInstanceUID: derivedUID(`lightbox-bench study ${study}`),
      SeriesInstanceUID: derivedUID(`lightbox-bench series ${s}`),
      SOPInstanceUIDs: Array.from({ length: end - first }, (_, k) =>
        derivedUID(`lightbox-bench instance ${first + k}`),
      ),
    };
  });
  const studies = [...new Set(series.map((s) => s.StudyInstanceUID))];
  return { studies, series };
}

function repeatTo<T>(items: T[], count: number): T[] {
  return Array.from({ length: count }, (_, i) => items[i % items.length]);
}

export function scenarios(
  corpus: CorpusManifest,
  searchStudies: number,
  sizes: { qido: number; metadataPasses: number; retrievePasses: number; frames: number },
): Scenario[] {
  const ct = ctHierarchy(corpus);
  const q = (paths: string[]) =>
    repeatTo(paths, sizes.qido).map((path) => ({ path, accept: JSON_TYPE }));
  const years = Array.from({ length: 8 }, (_, i) => 2019 + i);
  const searchUids = Array.from({ length: 50 }, (_, i) => searchStudy((i * 7919) % searchStudies));
  const qido: Scenario[] = [
    { name: 'QIDO studies: OHIF study list', paths: [`/studies?${OHIF_STUDY_LIST}`] },
    {
      name: 'QIDO studies: PatientName=Abc*',
      paths: FAMILY_PREFIXES.map((p) => `/studies?PatientName=${p}*&${OHIF_STUDY_LIST}`),
    },
    {
      name: 'QIDO studies: StudyDate range (1 month)',
      paths: years.map((y) => `/studies?StudyDate=${y}0301-${y}0331&${OHIF_STUDY_LIST}`),
    },
    {
      name: 'QIDO studies: ModalitiesInStudy',
      paths: MODALITIES.map((m) => `/studies?ModalitiesInStudy=${m}&${OHIF_STUDY_LIST}`),
    },
    {
      name: 'QIDO studies: name + date + modality, page 2',
      paths: years.map(
        (y, i) =>
          `/studies?PatientName=*${'aeiou'[i % 5]}*&StudyDate=${y}0101-${y}1231` +
          `&ModalitiesInStudy=${MODALITIES[i % MODALITIES.length]}` +
          `&limit=25&offset=25&fuzzymatching=false&includefield=00081030%2C00080060`,
      ),
    },
    {
      name: 'QIDO studies: StudyInstanceUID (viewer open)',
      paths: searchUids.map((s) => `/studies?StudyInstanceUID=${s.StudyInstanceUID}`),
    },
    {
      name: 'QIDO series of a study',
      paths: [...ct.studies, ...searchUids.map((s) => s.StudyInstanceUID)].map(
        (uid) => `/studies/${uid}/series?includefield=0008103E%2C00200011`,
      ),
    },
    {
      name: 'QIDO instances of a series (143)',
      paths: ct.series.map(
        (s) => `/studies/${s.StudyInstanceUID}/series/${s.SeriesInstanceUID}/instances`,
      ),
    },
    {
      name: 'QIDO instances: PatientID, limit 10',
      paths: searchUids.map((s) => `/instances?PatientID=${s.PatientID}&limit=10`),
    },
  ].map(({ name, paths }) => ({
    name,
    group: 'qido' as const,
    concurrency: 1,
    requests: q(paths),
  }));
  const ohifList = qido[0];
  qido.push({ ...ohifList, name: `${ohifList.name}, 4 clients`, concurrency: 4 });

  const metadata = (paths: string[], passes: number) =>
    repeatTo(paths, paths.length * passes).map((path) => ({ path, accept: JSON_TYPE }));
  const studyMetadata = ct.studies.map((uid) => `/studies/${uid}/metadata`);
  const seriesMetadata = ct.series.map(
    (s) => `/studies/${s.StudyInstanceUID}/series/${s.SeriesInstanceUID}/metadata`,
  );
  const retrieve = (passes: number) =>
    repeatTo(ct.studies, ct.studies.length * passes).map((uid) => ({
      path: `/studies/${uid}`,
      accept: STUDY_RETRIEVE,
    }));
  const frames = ct.series
    .flatMap((s) => s.SOPInstanceUIDs.map((sop) => ({ ...s, sop })))
    .filter((_, i) => i % Math.max(1, Math.floor(corpus.instances / sizes.frames)) === 0)
    .slice(0, sizes.frames)
    .map((s) => ({
      path: `/studies/${s.StudyInstanceUID}/series/${s.SeriesInstanceUID}/instances/${s.sop}/frames/1`,
      accept: FRAMES,
    }));
  return [
    ...qido,
    { name: 'study metadata (286 instances)', group: 'metadata', concurrency: 1, requests: metadata(studyMetadata, sizes.metadataPasses) },
    { name: 'series metadata (143 instances)', group: 'metadata', concurrency: 1, requests: metadata(seriesMetadata, sizes.metadataPasses) },
    { name: 'study metadata, 4 clients', group: 'metadata', concurrency: 4, requests: metadata(studyMetadata, sizes.metadataPasses) },
    { name: 'study retrieve (141 MB)', group: 'retrieve', concurrency: 1, requests: retrieve(sizes.retrievePasses) },
    { name: 'study retrieve, 4 clients', group: 'retrieve', concurrency: 4, requests: retrieve(sizes.retrievePasses) },
    { name: 'frame retrieve (480 KB)', group: 'frames', concurrency: 1, requests: frames },
    { name: 'frame retrieve, 4 clients', group: 'frames', concurrency: 4, requests: frames },
  ]; // prettier-ignore
}

/** The requests of a scenario against one server's DICOMweb root. */
export function httpRequests(
  scenario: Scenario,
  root: string,
  headers: Record<string, string>,
): HttpRequest[] {
  return scenario.requests.map(({ path, accept }) => ({
    url: root + path,
    headers: { ...headers, Accept: accept },
  }));
}
