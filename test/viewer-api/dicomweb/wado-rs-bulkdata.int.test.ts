/**
 * WADO-RS bulk data (PS3.18 §10.4.1.1.4): the BulkDataURIs of the metadata, inside sequences too,
 * return the value's bytes (little endian, big endian files swapped); one byte range is honoured with
 * 206 and Content-Range (dicomweb-client's byteRange), a suffix range too; a range past the end is
 * 416; single-part application/octet-stream on request; encapsulated pixel data comes as its frames.
 */
import test from 'ava';
import type { DicomJson } from '../../../core/archive/index-store.js';
import {
  TEST_API_TOKEN,
  authorizedFetch,
  buffer,
  dicomwebClient,
  splitMultipart,
  type DICOMwebClient,
} from '../../helpers/dicomweb.js';
import { stowPydicomCorpus, type StoredSample } from '../../helpers/pydicom-corpus.js';
import { probePydicom, pydicomFrames } from '../../helpers/pydicom.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { requireService } from '../../helpers/tools.js';

const SAMPLES = new Set([
  'waveform_ecg.dcm',
  'MR_small.dcm',
  'MR_small_bigendian.dcm',
  'SC_rgb_rle_2frame.dcm',
]);

/** Every BulkDataURI in a data set, through sequences. */
function bulkDataURIs(dataset: DicomJson): string[] {
  return Object.values(dataset).flatMap((a) => [
    ...(a.BulkDataURI ? [a.BulkDataURI] : []),
    ...(a.vr === 'SQ' ? ((a.Value ?? []) as DicomJson[]).flatMap(bulkDataURIs) : []),
  ]);
}

await pydicomManifest().catch(() => undefined);
const ready =
  (await requireService(test, 'pydicom test data', pydicomManifest)) &&
  (await requireService(test, 'python3-pydicom', probePydicom));

if (ready) {
  let lightbox: TestLightbox;
  let client: DICOMwebClient;
  let samples: Map<string, StoredSample>;
  const metadataOf = async (s: StoredSample) =>
    (
      await client.retrieveInstanceMetadata({
        studyInstanceUID: s.StudyInstanceUID,
        seriesInstanceUID: s.SeriesInstanceUID,
        sopInstanceUID: s.SOPInstanceUID,
      })
    )[0] as DicomJson;

  test.before(async () => {
    lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
    client = dicomwebClient(lightbox.viewerApi.url);
    const { stored } = await stowPydicomCorpus(lightbox, (e) => SAMPLES.has(e.name));
    samples = new Map(stored.map((s) => [s.name, s]));
  });
  test.after.always(() => lightbox?.stop());

  test('a bulk value inside a sequence, whole and by byte range (206, Content-Range)', async (t) => {
    const uris = bulkDataURIs(await metadataOf(samples.get('waveform_ecg.dcm')!));
    const nested = uris.find((u) => /\/bulkdata\/54000100\.0\.54001010$/.test(u));
    t.truthy(nested, `WaveformData in WaveformSequence: ${uris.join(' ')}`);
    const [whole] = await client.retrieveBulkData({ BulkDataURI: nested! });
    const bytes = buffer(whole);
    t.true(bytes.length > 1024);
    const [part] = await client.retrieveBulkData({ BulkDataURI: nested!, byteRange: [100, 1099] });
    t.true(buffer(part).equals(bytes.subarray(100, 1100)));
    const res = await authorizedFetch(nested!, { headers: { Range: 'bytes=-10' } });
    t.is(res.status, 206);
    t.is(
      res.headers.get('content-range'),
      `bytes ${bytes.length - 10}-${bytes.length - 1}/${bytes.length}`,
    );
    const [suffix] = splitMultipart(
      Buffer.from(await res.arrayBuffer()),
      res.headers.get('content-type')!,
    );
    t.true(suffix.body.equals(bytes.subarray(-10)));
    t.is(suffix.headers['content-range'], res.headers.get('content-range')!);
  });

  test('single-part application/octet-stream, open-ended range, 416 past the end', async (t) => {
    const mr = samples.get('MR_small.dcm')!;
    const uri = (await metadataOf(mr))['7FE00010'].BulkDataURI!;
    const [pixels] = await pydicomFrames(mr.sentPath);
    const whole = await authorizedFetch(uri, { headers: { Accept: 'application/octet-stream' } });
    t.is(whole.status, 200);
    t.is(whole.headers.get('content-type'), 'application/octet-stream');
    t.is(whole.headers.get('accept-ranges'), 'bytes');
    t.true(Buffer.from(await whole.arrayBuffer()).equals(pixels));
    const tail = await authorizedFetch(uri, {
      headers: { Accept: 'application/octet-stream', Range: 'bytes=8000-' },
    });
    t.is(tail.status, 206);
    t.is(tail.headers.get('content-range'), `bytes 8000-8191/8192`);
    t.true(Buffer.from(await tail.arrayBuffer()).equals(pixels.subarray(8000)));
    const beyond = await authorizedFetch(uri, { headers: { Range: 'bytes=9000-9100' } });
    t.is(beyond.status, 416);
    t.is(beyond.headers.get('content-range'), 'bytes */8192');
    t.is(beyond.headers.get('content-type'), 'application/problem+json');
  });

  test('big endian pixel data comes little endian, ranges on odd bytes included', async (t) => {
    const big = samples.get('MR_small_bigendian.dcm')!;
    const uri = (await metadataOf(big))['7FE00010'].BulkDataURI!;
    const [pixels] = await pydicomFrames(big.sentPath); // swapped to little endian by pydicom's reading
    const [whole] = await client.retrieveBulkData({ BulkDataURI: uri });
    t.true(buffer(whole).equals(pixels));
    const [odd] = await client.retrieveBulkData({ BulkDataURI: uri, byteRange: [1001, 2000] });
    t.true(buffer(odd).equals(pixels.subarray(1001, 2001)));
  });

  test('encapsulated pixel data as bulk data: its frames, one part each', async (t) => {
    const rle = samples.get('SC_rgb_rle_2frame.dcm')!;
    const uri = (await metadataOf(rle))['7FE00010'].BulkDataURI!;
    const frames = await pydicomFrames(rle.sentPath);
    const res = await authorizedFetch(uri);
    t.is(res.status, 200);
    const parts = splitMultipart(
      Buffer.from(await res.arrayBuffer()),
      res.headers.get('content-type')!,
    );
    t.deepEqual(
      parts.map((p) => p.body),
      frames,
    );
    t.is(parts[0].headers['content-type'], 'image/dicom-rle; transfer-syntax=1.2.840.10008.1.2.5');
  });

  test('an unknown path is 404, a malformed one 400', async (t) => {
    const mr = samples.get('MR_small.dcm')!;
    const base = (await metadataOf(mr))['7FE00010'].BulkDataURI!.replace(/7FE00010$/, '');
    t.is((await authorizedFetch(`${base}00091001`)).status, 404);
    t.is((await authorizedFetch(`${base}not-a-tag`)).status, 400);
  });
}
