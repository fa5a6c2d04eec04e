/**
 * WADO-RS frames (PS3.18 §10.4.1.1.3) of the real pydicom files, stored by STOW-RS: every frame of
 * every image equals what pydicom reads from the file (native: the pixel bytes, little endian;
 * encapsulated: the frame's fragment bytes), and the compressed frames of MR_small's RLE, JPEG-LS and
 * JPEG 2000 lossless copies decode (dcmjs-codecs) to MR_small's native pixels. Then media types,
 * 406 and 404.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import type { DicomJson } from '../../../core/archive/index-store.js';
import {
  TEST_API_TOKEN,
  authorizedFetch,
  buffer,
  dicomwebClient,
  splitMultipart,
  type DICOMwebClient,
  type Part,
} from '../../helpers/dicomweb.js';
import { stowPydicomCorpus, type StoredSample } from '../../helpers/pydicom-corpus.js';
import { probePydicom, pydicomFrames } from '../../helpers/pydicom.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { requireService } from '../../helpers/tools.js';

const ANY_SYNTAX = [{ mediaType: 'application/octet-stream', transferSyntaxUID: '*' }];

/** Images whose pixel data pydicom 2.3.1 itself cannot split into frames. */
const PYDICOM_CANNOT_SPLIT = new Set<string>([]);

await pydicomManifest().catch(() => undefined);
const ready =
  (await requireService(test, 'pydicom test data', pydicomManifest)) &&
  (await requireService(test, 'python3-pydicom', probePydicom));

if (ready) {
  let lightbox: TestLightbox;
  let images: StoredSample[];
  let client: DICOMwebClient;
  const url = (s: StoredSample) =>
    `${lightbox.viewerApi.url}/dicom-web/studies/${s.StudyInstanceUID}/series/${s.SeriesInstanceUID}/instances/${s.SOPInstanceUID}`;
  const target = (s: StoredSample) => ({
    studyInstanceUID: s.StudyInstanceUID,
    seriesInstanceUID: s.SeriesInstanceUID,
    sopInstanceUID: s.SOPInstanceUID,
  });
  const byName = (name: string) => images.find((s) => s.name === name)!;

  test.before(async () => {
    lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
    client = dicomwebClient(lightbox.viewerApi.url);
    const { stored } = await stowPydicomCorpus(lightbox);
    images = [];
    for (const sample of stored) {
      const [metadata] = await client.retrieveInstanceMetadata(target(sample));
      if ((metadata as DicomJson)['7FE00010'] && !PYDICOM_CANNOT_SPLIT.has(sample.name)) {
        images.push(sample);
      }
    }
  });
  test.after.always(() => lightbox?.stop());

  test('every frame of every image equals pydicom’s frame of the file', async (t) => {
    const syntaxes = new Set<string>();
    let frames = 0;
    for (const sample of images) {
      const expected = await pydicomFrames(sample.sentPath);
      const numbers = expected.map((_, i) => i + 1);
      const parts = await client.retrieveInstanceFrames({
        ...target(sample),
        frameNumbers: numbers,
        mediaTypes: ANY_SYNTAX,
      });
      t.is(parts.length, expected.length, sample.name);
      parts.forEach((part, i) => {
        t.true(buffer(part).equals(expected[i]), `${sample.name} frame ${i + 1}`);
      });
      syntaxes.add(sample.TransferSyntaxUID);
      frames += parts.length;
    }
    t.log(`${images.length} images, ${frames} frames, ${syntaxes.size} transfer syntaxes`);
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.5']) {
      t.true(syntaxes.has(ts), ts);
    }
    t.true(syntaxes.has('1.2.840.10008.1.2.4.50') && syntaxes.has('1.2.840.10008.1.2.4.90'));
  });

  test('multi-frame: frames come back in the order asked, from native and RLE data', async (t) => {
    for (const name of ['SC_rgb_rle_2frame.dcm', 'SC_rgb_rle_16bit_2frame.dcm']) {
      const sample = byName(name);
      const expected = await pydicomFrames(sample.sentPath);
      t.is(expected.length, 2);
      const parts = await client.retrieveInstanceFrames({
        ...target(sample),
        frameNumbers: [2, 1, 2],
        mediaTypes: ANY_SYNTAX,
      });
      t.deepEqual(
        parts.map((p) => buffer(p)),
        [expected[1], expected[0], expected[1]],
        name,
      );
    }
  });

  test('RLE, JPEG-LS and JPEG 2000 lossless frames decode to the native pixels of MR_small', async (t) => {
    const require = createRequire(import.meta.url);
    const { NativeCodecs, Context } = require('dcmjs-codecs') as typeof import('dcmjs-codecs');
    await NativeCodecs.initializeAsync({
      webAssemblyModulePathOrUrl: require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm'),
    });
    const [native] = await client.retrieveInstanceFrames({
      ...target(byName('MR_small.dcm')),
      frameNumbers: [1],
    });
    t.is(native.byteLength, 64 * 64 * 2);
    const decoders = {
      'MR_small_RLE.dcm': NativeCodecs.decodeRle,
      'MR_small_jpeg_ls_lossless.dcm': NativeCodecs.decodeJpegLs,
      'MR_small_jp2klossless.dcm': NativeCodecs.decodeJpeg2000,
    };
    for (const [name, decode] of Object.entries(decoders)) {
      const [frame] = await client.retrieveInstanceFrames({
        ...target(byName(name)),
        frameNumbers: [1],
        mediaTypes: ANY_SYNTAX,
      });
      const context = new Context({
        width: 64,
        height: 64,
        bitsAllocated: 16,
        bitsStored: 16,
        samplesPerPixel: 1,
        pixelRepresentation: 1,
        planarConfiguration: 0,
        photometricInterpretation: 'MONOCHROME2',
        encodedBuffer: new Uint8Array(frame),
      });
      const decoded = Buffer.from(decode.call(NativeCodecs, context).getDecodedBuffer()!);
      t.true(decoded.equals(buffer(native)), name);
    }
  });

  test('RLE frames decode like pydicom’s own RLE decoder', async (t) => {
    const require = createRequire(import.meta.url);
    const { NativeCodecs, Context } = require('dcmjs-codecs') as typeof import('dcmjs-codecs');
    if (!NativeCodecs.isInitialized()) {
      await NativeCodecs.initializeAsync({
        webAssemblyModulePathOrUrl: require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm'),
      });
    }
    for (const name of ['SC_rgb_rle_2frame.dcm', 'rtdose_rle.dcm']) {
      const sample = images.find((s) => s.name === name);
      if (!sample) continue;
      const [metadata] = await client.retrieveInstanceMetadata(target(sample));
      const m = metadata as DicomJson;
      const value = (tag: string) => Number(m[tag]?.Value?.[0] ?? 0);
      const expected = await pydicomFrames(sample.sentPath, 'decode');
      const parts = await client.retrieveInstanceFrames({
        ...target(sample),
        frameNumbers: expected.map((_, i) => i + 1),
        mediaTypes: ANY_SYNTAX,
      });
      parts.forEach((part, i) => {
        const context = new Context({
          width: value('00280011'),
          height: value('00280010'),
          bitsAllocated: value('00280100'),
          bitsStored: value('00280101'),
          samplesPerPixel: value('00280002'),
          pixelRepresentation: value('00280103'),
          planarConfiguration: 0,
          photometricInterpretation: String(m['00280004'].Value?.[0]),
          encodedBuffer: new Uint8Array(part),
        });
        const decoded = Buffer.from(NativeCodecs.decodeRle(context).getDecodedBuffer()!);
        t.true(decoded.equals(expected[i]), `${name} frame ${i + 1}`);
      });
    }
  });

  test('part media types: image/jpeg, image/jls, image/jp2, image/dicom-rle, octet-stream', async (t) => {
    const cases: Array<[string, string, string]> = [
      ['JPEG-lossy.dcm', 'image/jpeg', '1.2.840.10008.1.2.4.51'],
      ['MR_small_jpeg_ls_lossless.dcm', 'image/jls', '1.2.840.10008.1.2.4.80'],
      ['MR_small_jp2klossless.dcm', 'image/jp2', '1.2.840.10008.1.2.4.90'],
      ['MR_small_RLE.dcm', 'image/dicom-rle', '1.2.840.10008.1.2.5'],
      ['MR_small.dcm', 'application/octet-stream', '1.2.840.10008.1.2.1'],
    ];
    for (const [name, partType, ts] of cases) {
      const res = await authorizedFetch(`${url(byName(name))}/frames/1`);
      t.is(res.status, 200, name);
      const contentType = res.headers.get('content-type')!;
      t.true(contentType.startsWith(`multipart/related; type="${partType}"`), contentType);
      const [part] = splitMultipart(Buffer.from(await res.arrayBuffer()), contentType);
      t.is(part.headers['content-type'], `${partType}; transfer-syntax=${ts}`, name);
      const asOctets = await authorizedFetch(`${url(byName(name))}/frames/1`, {
        headers: {
          Accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
        },
      });
      const [octets] = splitMultipart(
        Buffer.from(await asOctets.arrayBuffer()),
        asOctets.headers.get('content-type')!,
      );
      t.is(octets.headers['content-type'], `application/octet-stream; transfer-syntax=${ts}`);
      t.true(octets.body.equals(part.body), name);
    }
  });

  test('another transfer syntax is 406 (no transcoding); a missing frame 404; a bad list 400', async (t) => {
    const jpeg = url(byName('JPEG-lossy.dcm'));
    const native = url(byName('MR_small.dcm'));
    const asked = (ts: string) => ({
      headers: {
        Accept: `multipart/related; type="application/octet-stream"; transfer-syntax=${ts}`,
      },
    });
    t.is((await authorizedFetch(`${jpeg}/frames/1`, asked('1.2.840.10008.1.2.1'))).status, 406);
    t.is(
      (await authorizedFetch(`${native}/frames/1`, asked('1.2.840.10008.1.2.4.50'))).status,
      406,
    );
    t.is((await authorizedFetch(`${native}/frames/1`, asked('1.2.840.10008.1.2.1'))).status, 200);
    // OHIF's acceptHeader (samples/ohif/app-config.js), unquoted: the stored bytes, typed.
    const ohif = await authorizedFetch(`${jpeg}/frames/1`, {
      headers: { Accept: 'multipart/related; type=application/octet-stream; transfer-syntax=*' },
    });
    t.is(ohif.status, 200);
    const [part] = splitMultipart(
      Buffer.from(await ohif.arrayBuffer()),
      ohif.headers.get('content-type')!,
    );
    t.is(
      part.headers['content-type'],
      'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.51',
    );
    const missing = await authorizedFetch(`${native}/frames/2`);
    t.is(missing.status, 404);
    t.is(missing.headers.get('content-type'), 'application/problem+json');
    t.is((await authorizedFetch(`${native}/frames/0`)).status, 400);
    t.is((await authorizedFetch(`${native}/frames/1,x`)).status, 400);
  });
}

export type { Part };
