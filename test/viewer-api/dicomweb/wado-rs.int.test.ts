/**
 * WADO-RS Retrieve Study / Series / Instance (PS3.18 §10.4.1.1.1) through dicomweb-client: what
 * STOW-RS stored comes back bit for bit (SHA-256 of the file sent); what C-STORE stored comes back
 * equal to the stored object; a large instance streams through; no transcoding (406); 404 and 400
 * as problem documents.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { objectKey } from '../../../core/archive/object-store.js';
import { storescu } from '../../helpers/dcmtk.js';
import {
  TEST_API_TOKEN,
  arrayBufferOf,
  authorizedFetch,
  buffer,
  dicomwebClient,
  splitMultipart,
  statusOf,
  type DICOMwebClient,
} from '../../helpers/dicomweb.js';
import { stowPydicomCorpus, type StoredSample } from '../../helpers/pydicom-corpus.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID, writeInstanceFile } from '../../helpers/synthetic.js';
import { requireService, requireTool } from '../../helpers/tools.js';

const sha256 = (b: Buffer | ArrayBuffer) =>
  createHash('sha256')
    .update(Buffer.isBuffer(b) ? b : buffer(b))
    .digest('hex');

/** Real files in many transfer syntaxes, big endian and deflated included. */
const SAMPLES = new Set([
  'CT_small.dcm',
  'MR_small.dcm',
  'MR_small_RLE.dcm',
  'MR_small_bigendian.dcm',
  'MR_small_implicit.dcm',
  'MR_small_jp2klossless.dcm',
  'JPEG-lossy.dcm',
  'image_dfl.dcm',
  'waveform_ecg.dcm',
  'SC_rgb_rle_2frame.dcm',
]);

await pydicomManifest().catch(() => undefined);
const ready =
  (await requireService(test, 'pydicom test data', pydicomManifest)) &&
  (await requireTool(test, 'storescu'));

if (ready) {
  let lightbox: TestLightbox;
  let client: DICOMwebClient;
  let samples: StoredSample[];
  const target = (s: StoredSample) => ({
    studyInstanceUID: s.StudyInstanceUID,
    seriesInstanceUID: s.SeriesInstanceUID,
    sopInstanceUID: s.SOPInstanceUID,
  });

  test.before(async () => {
    lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
    client = dicomwebClient(lightbox.viewerApi.url);
    samples = (await stowPydicomCorpus(lightbox, (e) => SAMPLES.has(e.name))).stored;
  });
  test.after.always(() => lightbox?.stop());

  test('an instance stored by STOW-RS is retrieved bit for bit', async (t) => {
    t.is(samples.length, SAMPLES.size);
    for (const sample of samples) {
      const instance = await client.retrieveInstance(target(sample));
      t.is(sha256(instance), sha256(sample.bytes), sample.name);
    }
  });

  test('study and series retrieval: one part per instance, each the stored file', async (t) => {
    const byStudy = new Map<string, StoredSample[]>();
    for (const s of samples)
      byStudy.set(s.StudyInstanceUID, [...(byStudy.get(s.StudyInstanceUID) ?? []), s]);
    const [study, inStudy] = [...byStudy].sort((a, b) => b[1].length - a[1].length)[0];
    t.true(inStudy.length > 1);
    const parts = await client.retrieveStudy({ studyInstanceUID: study });
    t.deepEqual(parts.map((p) => sha256(p)).sort(), inStudy.map((s) => sha256(s.bytes)).sort());
    const series = inStudy[0].SeriesInstanceUID;
    const seriesParts = await client.retrieveSeries({
      studyInstanceUID: study,
      seriesInstanceUID: series,
    });
    const inSeries = inStudy.filter((s) => s.SeriesInstanceUID === series);
    t.deepEqual(
      seriesParts.map((p) => sha256(p)).sort(),
      inSeries.map((s) => sha256(s.bytes)).sort(),
    );
  });

  test('each part names its transfer syntax; transfer-syntax=* or none sends the stored bytes', async (t) => {
    const jpeg = samples.find((s) => s.name === 'JPEG-lossy.dcm')!;
    const url = `${lightbox.viewerApi.url}/dicom-web/studies/${jpeg.StudyInstanceUID}/series/${jpeg.SeriesInstanceUID}/instances/${jpeg.SOPInstanceUID}`;
    for (const accept of [
      undefined,
      'multipart/related; type="application/dicom"; transfer-syntax=*',
      'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.51',
      '*/*',
    ]) {
      const res = await authorizedFetch(url, { headers: accept ? { Accept: accept } : {} });
      t.is(res.status, 200, accept);
      const contentType = res.headers.get('content-type')!;
      t.regex(contentType, /^multipart\/related; type="application\/dicom"; boundary=/);
      const [part] = splitMultipart(Buffer.from(await res.arrayBuffer()), contentType);
      t.is(
        part.headers['content-type'],
        'application/dicom; transfer-syntax=1.2.840.10008.1.2.4.51',
      );
      t.is(part.headers['content-length'], String(jpeg.bytes.length));
      t.is(part.headers['content-location'], url);
      t.true(part.body.equals(jpeg.bytes));
    }
  });

  test('a transfer syntax other than the stored one is 406: Lightbox does not transcode', async (t) => {
    const jpeg = samples.find((s) => s.name === 'JPEG-lossy.dcm')!;
    const url = `${lightbox.viewerApi.url}/dicom-web/studies/${jpeg.StudyInstanceUID}`;
    // (dicomweb-client 0.11 cannot send an Accept with a transfer syntax for instances: fetch does.)
    const explicit = await authorizedFetch(url, {
      headers: {
        Accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
      },
    });
    t.is(explicit.status, 406);
    t.is(await statusOf(client.retrieveStudy({ studyInstanceUID: makeUID() })), 404);
    const res = await authorizedFetch(url, { headers: { Accept: 'application/dicom+json' } });
    t.is(res.status, 406);
    t.is(res.headers.get('content-type'), 'application/problem+json');
    t.regex(((await res.json()) as { detail: string }).detail, /does not transcode/);
  });

  test('an instance received by C-STORE is retrieved equal to the stored object', async (t) => {
    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    const files: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const file = path.join(lightbox.dataDirectory, `cstore-${i}.dcm`);
      await writeFile(
        file,
        encodeInstance({ StudyInstanceUID, SeriesInstanceUID, InstanceNumber: i }),
      );
      files.push(file);
    }
    const sent = await storescu(lightbox.gateway.port, files);
    t.is(sent.code, 0, sent.stderr);
    await lightbox.settled();
    const parts = await client.retrieveSeries({
      studyInstanceUID: StudyInstanceUID,
      seriesInstanceUID: SeriesInstanceUID,
    });
    t.is(parts.length, 3);
    const objects = (lightbox.config.objects as { directory: string }).directory;
    for (const part of parts) {
      const bytes = buffer(part);
      const SOPInstanceUID = /* the part's own UID, from the index */ (
        await lightbox.services.index.findStoredInstances({ StudyInstanceUID, SeriesInstanceUID })
      ).find((i) => i.sha256 === sha256(bytes))?.SOPInstanceUID;
      t.truthy(SOPInstanceUID, 'the part is one of the stored instances');
      const stored = await readFile(
        path.join(
          objects,
          objectKey({ StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID: SOPInstanceUID! }),
        ),
      );
      t.true(bytes.equals(stored));
    }
  });

  test('a 48 MiB instance goes in by STOW-RS and comes back bit for bit', async (t) => {
    const file = path.join(lightbox.dataDirectory, 'large.dcm');
    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    const { SOPInstanceUID } = await writeInstanceFile(file, {
      StudyInstanceUID,
      SeriesInstanceUID,
      Rows: 2048,
      Columns: 2048,
      NumberOfFrames: 6,
    });
    const bytes = await readFile(file);
    await client.storeInstances({ datasets: [arrayBufferOf(bytes)] });
    await lightbox.settled();
    const res = await authorizedFetch(
      `${lightbox.viewerApi.url}/dicom-web/studies/${StudyInstanceUID}/series/${SeriesInstanceUID}/instances/${SOPInstanceUID}`,
    );
    t.is(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    // Streamed from the object store, with the length computed from the index beforehand.
    t.is(Number(res.headers.get('content-length')), body.length);
    const [part] = splitMultipart(body, res.headers.get('content-type')!);
    t.is(sha256(part.body), sha256(bytes));
  });

  test('an unknown study is 404 and a malformed UID 400, as problem documents', async (t) => {
    const unknown = await authorizedFetch(
      `${lightbox.viewerApi.url}/dicom-web/studies/${makeUID()}`,
    );
    t.is(unknown.status, 404);
    t.is(unknown.headers.get('content-type'), 'application/problem+json');
    t.deepEqual(await unknown.json(), {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'not found',
    });
    for (const resource of ['', '/metadata', '/series/1.2/metadata']) {
      const res = await authorizedFetch(
        `${lightbox.viewerApi.url}/dicom-web/studies/${makeUID()}${resource}`,
      );
      t.is(res.status, 404, resource);
    }
    const malformed = await authorizedFetch(`${lightbox.viewerApi.url}/dicom-web/studies/1.2.03`);
    t.is(malformed.status, 400);
    t.like(await malformed.json(), { status: 400, detail: 'StudyInstanceUID is not a valid UID' });
  });
}
