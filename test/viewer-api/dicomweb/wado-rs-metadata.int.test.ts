/**
 * WADO-RS metadata (PS3.18 §10.4.1.1.2) of the real pydicom files, stored by STOW-RS, against dcmtk's
 * dcm2json of the same bytes: every attribute, through sequences, with the known differences of
 * test/helpers/dicom-json-compare.ts normalised; every BulkDataURI fetched and its bytes compared
 * with the value dcm2json inlines. Then ETag / If-None-Match and the study and series levels.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DicomJson } from '../../../core/archive/index-store.js';
import {
  compareDicomJson,
  dcm2json,
  type BulkComparison,
} from '../../helpers/dicom-json-compare.js';
import {
  TEST_API_TOKEN,
  authorizedFetch,
  buffer,
  dicomwebClient,
  type DICOMwebClient,
} from '../../helpers/dicomweb.js';
import { stowPydicomCorpus, type StoredCorpus } from '../../helpers/pydicom-corpus.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { requireService, requireTool } from '../../helpers/tools.js';

/** Files whose text dcmtk 3.6.7 cannot convert (ISO 2022 IR 87 / IR 13, per-item character sets). */
const DCMTK_CANNOT_DECODE = new Set([
  'chrH31.dcm',
  'chrH32.dcm',
  'chrJapMulti.dcm',
  'chrJapMultiExplicitIR6.dcm',
  'chrSQEncoding.dcm',
  'chrSQEncoding1.dcm',
  'J2K_pixelrep_mismatch.dcm',
]);

/**
 * Valid Part 10 files the ingest path refuses, as C-STORE would (decided file by file with dcmdump):
 * 0xA900 when the data set's SOP Instance UID differs from the meta group's, 0xC000 when the data set
 * has none (PS3.18 Table 10.5.3-1 FailureReason).
 */
const REFUSED: Record<string, number> = {
  'badVR.dcm': 0xa900,
  'chrJapMulti.dcm': 0xa900,
  'chrJapMultiExplicitIR6.dcm': 0xa900,
  'rtdose.dcm': 0xa900,
  'rtdose_1frame.dcm': 0xa900,
  'rtdose_expb.dcm': 0xa900,
  'rtdose_expb_1frame.dcm': 0xa900,
  'rtplan.dcm': 0xa900,
  'UN_sequence.dcm': 0xc000,
  'chrSQEncoding.dcm': 0xc000,
  'chrSQEncoding1.dcm': 0xc000,
  'no_meta_group_length.dcm': 0xc000,
  'priv_SQ.dcm': 0xc000,
};

const NATIVE = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
]);

await pydicomManifest().catch(() => undefined); // the first extraction outlasts the probe timeout
const ready =
  (await requireService(test, 'pydicom test data', pydicomManifest)) &&
  (await requireTool(test, 'dcm2json')) &&
  (await requireTool(test, 'dcmodify'));

if (ready) {
  let lightbox: TestLightbox;
  let corpus: StoredCorpus;
  let client: DICOMwebClient;
  test.before(async () => {
    lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
    corpus = await stowPydicomCorpus(lightbox);
    client = dicomwebClient(lightbox.viewerApi.url);
  });
  test.after.always(() => lightbox?.stop());

  test('STOW-RS stores every valid Part 10 pydicom file but those the ingest path refuses', async (t) => {
    const failed = Object.fromEntries(corpus.failed.map((f) => [f.name, f.failureReason]));
    t.deepEqual(failed, REFUSED);
    const valid = (await pydicomManifest()).filter((e) => e.validPart10).length;
    t.is(corpus.stored.length, valid - Object.keys(REFUSED).length);
  });

  test('instance metadata equals dcm2json of the stored bytes; bulk data equals its inline values', async (t) => {
    const scratch = await mkdtemp(join(tmpdir(), 'lightbox-metadata-'));
    t.teardown(() => rm(scratch, { recursive: true, force: true }));
    let compared = 0;
    let bulkCompared = 0;
    for (const sample of corpus.stored) {
      if (DCMTK_CANNOT_DECODE.has(sample.name)) continue;
      const [ours] = (await client.retrieveInstanceMetadata({
        studyInstanceUID: sample.StudyInstanceUID,
        seriesInstanceUID: sample.SeriesInstanceUID,
        sopInstanceUID: sample.SOPInstanceUID,
      })) as DicomJson[];
      const theirs = await dcm2json(sample.sentPath, scratch, sample.name);
      const differences: string[] = [];
      const bulk: BulkComparison[] = [];
      const encapsulated = !NATIVE.has(sample.TransferSyntaxUID);
      compareDicomJson(ours, theirs, '', differences, bulk, encapsulated);
      for (const { path, uri, expected } of bulk) {
        t.true(uri.startsWith(`${lightbox.viewerApi.url}/dicom-web/studies/`), uri);
        if (!expected) continue; // encapsulated pixel data: compared frame by frame elsewhere
        const [bytes] = (await client.retrieveBulkData({ BulkDataURI: uri })) as ArrayBuffer[];
        if (!buffer(bytes).equals(expected)) differences.push(`${path} bulk data bytes`);
        bulkCompared++;
      }
      t.deepEqual(differences, [], sample.name);
      compared++;
    }
    const skipped = corpus.stored.filter((s) => DCMTK_CANNOT_DECODE.has(s.name)).length;
    t.is(compared, corpus.stored.length - skipped);
    t.log(`${compared} instances, ${bulkCompared} bulk values compared with dcm2json`);
    t.true(bulkCompared >= 25, `${bulkCompared} bulk values compared`);
  });

  test('metadata has an ETag; If-None-Match answers 304 without a body', async (t) => {
    const sample = corpus.stored.find((s) => s.name === 'CT_small.dcm')!;
    const url = `${lightbox.viewerApi.url}/dicom-web/studies/${sample.StudyInstanceUID}/metadata`;
    const first = await authorizedFetch(url);
    t.is(first.status, 200);
    t.is(first.headers.get('content-type'), 'application/dicom+json');
    const etag = first.headers.get('etag');
    t.regex(etag ?? '', /^"[\w-]+"$/);
    const again = await authorizedFetch(url, { headers: { 'If-None-Match': etag! } });
    t.is(again.status, 304);
    t.is(await again.text(), '');
    const other = await authorizedFetch(url, { headers: { 'If-None-Match': '"something-else"' } });
    t.is(other.status, 200);
  });

  test('study and series metadata hold every instance of the study or series', async (t) => {
    const byStudy = new Map<string, Set<string>>();
    for (const s of corpus.stored) {
      byStudy.set(
        s.StudyInstanceUID,
        (byStudy.get(s.StudyInstanceUID) ?? new Set()).add(s.SOPInstanceUID),
      );
    }
    const [study, sops] = [...byStudy].sort((a, b) => b[1].size - a[1].size)[0];
    t.true(sops.size > 1);
    const metadata = (await client.retrieveStudyMetadata({
      studyInstanceUID: study,
    })) as DicomJson[];
    const uids = (list: DicomJson[]) => list.map((m) => String(m['00080018'].Value?.[0])).sort();
    t.deepEqual(uids(metadata), [...sops].sort());
    const series = corpus.stored.find((s) => s.StudyInstanceUID === study)!.SeriesInstanceUID;
    const inSeries = corpus.stored.filter((s) => s.SeriesInstanceUID === series);
    const seriesMetadata = (await client.retrieveSeriesMetadata({
      studyInstanceUID: study,
      seriesInstanceUID: series,
    })) as DicomJson[];
    t.deepEqual(uids(seriesMetadata), inSeries.map((s) => s.SOPInstanceUID).sort());
  });
}
