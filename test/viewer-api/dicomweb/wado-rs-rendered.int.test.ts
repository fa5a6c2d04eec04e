/**
 * Rendered (PS3.18 §10.4.1.1.5), thumbnail (§10.4.1.1.6) and WADO-URI (§10.4.2) through the route
 * table: images come back decodable with the instance's dimensions (the pixel values themselves are
 * checked in test/core/imaging), non-images are 400, WADO-URI application/dicom is the stored object.
 */
import test from 'ava';
import sharp from 'sharp';
import { authorizedFetch, TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { stowPydicomCorpus, type StoredSample } from '../../helpers/pydicom-corpus.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { requireService } from '../../helpers/tools.js';

await pydicomManifest().catch(() => undefined);

if (await requireService(test, 'pydicom test data', pydicomManifest)) {
  let lightbox: TestLightbox;
  let ct: StoredSample;
  let rgb: StoredSample;
  let sr: StoredSample;
  const url = (s: StoredSample, tail: string) =>
    `${lightbox.viewerApi.url}/dicom-web/studies/${s.StudyInstanceUID}/series/${s.SeriesInstanceUID}/instances/${s.SOPInstanceUID}${tail}`;

  test.before(async () => {
    lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
    const names = new Set(['CT_small.dcm', 'SC_rgb_rle_2frame.dcm', 'test-SR.dcm']);
    const { stored } = await stowPydicomCorpus(lightbox, (e) => names.has(e.name));
    const byName = (n: string) => stored.find((s) => s.name === n)!;
    [ct, rgb, sr] = [
      byName('CT_small.dcm'),
      byName('SC_rgb_rle_2frame.dcm'),
      byName('test-SR.dcm'),
    ];
  });
  test.after.always(() => lightbox?.stop());

  test('instance rendered as PNG has the instance matrix; viewport scales it', async (t) => {
    const png = await authorizedFetch(url(ct, '/rendered'), { headers: { Accept: 'image/png' } });
    t.is(png.status, 200);
    t.is(png.headers.get('content-type'), 'image/png');
    const meta = await sharp(Buffer.from(await png.arrayBuffer())).metadata();
    t.like(meta, { format: 'png', width: 128, height: 128 });
    const small = await authorizedFetch(url(ct, '/rendered?viewport=64,64'));
    t.like(await sharp(Buffer.from(await small.arrayBuffer())).metadata(), {
      format: 'jpeg',
      width: 64,
      height: 64,
    });
  });

  test('frame 2 of a multi-frame RGB instance renders; frame 3 is 404', async (t) => {
    const frame = await authorizedFetch(url(rgb, '/frames/2/rendered'), {
      headers: { Accept: 'image/png' },
    });
    t.is(frame.status, 200);
    t.like(await sharp(Buffer.from(await frame.arrayBuffer())).metadata(), { channels: 3 });
    t.is((await authorizedFetch(url(rgb, '/frames/3/rendered'))).status, 404);
  });

  test('thumbnails at study, series and instance level are small JPEGs', async (t) => {
    const base = `${lightbox.viewerApi.url}/dicom-web/studies/${ct.StudyInstanceUID}`;
    for (const target of [
      `${base}/thumbnail`,
      `${base}/series/${ct.SeriesInstanceUID}/thumbnail`,
      url(ct, '/thumbnail'),
    ]) {
      const res = await authorizedFetch(target);
      t.is(res.status, 200, target);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      t.is(meta.format, 'jpeg');
      t.true(Math.max(meta.width!, meta.height!) <= 128);
    }
  });

  test('a structured report has no pixel data: 400 as a problem document', async (t) => {
    const res = await authorizedFetch(url(sr, '/rendered'));
    t.is(res.status, 400);
    t.is(res.headers.get('content-type'), 'application/problem+json');
  });

  test('WADO-URI: application/dicom is the stored object, image/jpeg renders, no token is 401', async (t) => {
    const query = `requestType=WADO&studyUID=${ct.StudyInstanceUID}&seriesUID=${ct.SeriesInstanceUID}&objectUID=${ct.SOPInstanceUID}`;
    const dicom = await authorizedFetch(
      `${lightbox.viewerApi.url}/wado?${query}&contentType=application/dicom`,
    );
    t.is(dicom.status, 200);
    t.true(Buffer.from(await dicom.arrayBuffer()).equals(ct.bytes), 'bit for bit what was stored');
    const jpeg = await authorizedFetch(`${lightbox.viewerApi.url}/wado?${query}`);
    t.is(jpeg.headers.get('content-type'), 'image/jpeg');
    t.like(await sharp(Buffer.from(await jpeg.arrayBuffer())).metadata(), {
      width: 128,
      height: 128,
    });
    t.is((await fetch(`${lightbox.viewerApi.url}/wado?${query}`)).status, 401);
  });
}
