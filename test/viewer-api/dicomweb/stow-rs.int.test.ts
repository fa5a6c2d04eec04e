/**
 * STOW-RS (PS3.18 §10.5) against a real Lightbox: the Store Instances Response (Table 10.5.3-1)
 * names every instance, stored or failed with its FailureReason; 200 / 202 / 409; the study in the
 * URL is enforced; what is stored is archived (QIDO finds it) and nothing refused is left behind.
 */
import { spoolEntries } from '../../helpers/spool.js';
import test from 'ava';
import path from 'node:path';
import {
  TEST_API_TOKEN,
  arrayBufferOf,
  authorizedFetch,
  dicomwebClient,
  type DICOMwebClient,
} from '../../helpers/dicomweb.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../../helpers/synthetic.js';

type Json = Record<
  string,
  { vr: string; Value?: Array<Record<string, { Value?: unknown[] }> | unknown> }
>;

let lightbox: TestLightbox;
let client: DICOMwebClient;

test.before(async () => {
  lightbox = await startTestLightbox({
    viewerApi: { apiToken: TEST_API_TOKEN, maxInstanceBytes: 200_000 },
  });
  client = dicomwebClient(lightbox.viewerApi.url);
});
test.after('no reception is left in the spool', async (t) => {
  t.deepEqual(await spoolEntries(path.join(lightbox.dataDirectory, 'spool'), 'incoming'), []);
});
test.after.always(() => lightbox?.stop());

function instance(StudyInstanceUID = makeUID(), Rows = 16) {
  const SOPInstanceUID = makeUID();
  const SeriesInstanceUID = makeUID();
  const bytes = encodeInstance({
    StudyInstanceUID,
    SeriesInstanceUID,
    SOPInstanceUID,
    Rows,
    Columns: Rows,
  });
  return { StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, bytes };
}

/** POSTs parts as multipart/related (each part application/dicom unless a Content-Type is given). */
async function post(parts: Array<Buffer | { type: string; bytes: Buffer }>, study?: string) {
  const boundary = 'stow-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const { type, bytes } = Buffer.isBuffer(part)
      ? { type: 'application/dicom', bytes: part }
      : part;
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`),
      bytes,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const url = `${lightbox.viewerApi.url}/dicom-web/studies${study ? `/${study}` : ''}`;
  const res = await authorizedFetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    },
    body: new Uint8Array(Buffer.concat(chunks)),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: text ? (JSON.parse(text) as Json) : {},
  };
}

const referenced = (body: Json) =>
  ((body['00081199']?.Value ?? []) as Array<Record<string, { Value?: unknown[] }>>).map((item) => ({
    SOPClassUID: item['00081150'].Value?.[0],
    SOPInstanceUID: item['00081155'].Value?.[0],
    RetrieveURL: item['00081190'].Value?.[0],
  }));
const failed = (body: Json) =>
  ((body['00081198']?.Value ?? []) as Array<Record<string, { Value?: unknown[] }>>).map((item) => ({
    SOPInstanceUID: item['00081155'].Value?.[0],
    FailureReason: item['00081197'].Value?.[0],
  }));

test('200: every instance stored, each in ReferencedSOPSequence with its RetrieveURL', async (t) => {
  const study = makeUID();
  const a = instance(study);
  const b = instance(study);
  const res = await post([a.bytes, b.bytes]);
  t.is(res.status, 200);
  t.is(res.type, 'application/dicom+json');
  const base = `${lightbox.viewerApi.url}/dicom-web/studies/${study}`;
  t.deepEqual(res.body['00081190'], { vr: 'UR', Value: [base] });
  t.deepEqual(
    referenced(res.body).map((r) => r.SOPInstanceUID),
    [a.SOPInstanceUID, b.SOPInstanceUID],
  );
  const first = referenced(res.body)[0];
  t.is(first.SOPClassUID, '1.2.840.10008.5.1.4.1.1.2');
  t.is(first.RetrieveURL, `${base}/series/${a.SeriesInstanceUID}/instances/${a.SOPInstanceUID}`);
  t.is(failed(res.body).length, 0);
  await lightbox.settled();
  const found = await client.searchForInstances({ studyInstanceUID: study });
  t.is(found.length, 2);
});

test('dicomweb-client stores and the same instance sent again is accepted once (idempotent)', async (t) => {
  const a = instance();
  await client.storeInstances({ datasets: [arrayBufferOf(a.bytes)] });
  await client.storeInstances({
    datasets: [arrayBufferOf(a.bytes)],
    studyInstanceUID: a.StudyInstanceUID,
  });
  await lightbox.settled();
  const found = await client.searchForInstances({ studyInstanceUID: a.StudyInstanceUID });
  t.is(found.length, 1);
  t.like(await lightbox.services.index.counts(), { conflicts: 0 });
});

test('202: into /studies/{study}, an instance of another study fails with 0110', async (t) => {
  const study = makeUID();
  const ours = instance(study);
  const other = instance();
  const res = await post([ours.bytes, other.bytes], study);
  t.is(res.status, 202);
  t.deepEqual(
    referenced(res.body).map((r) => r.SOPInstanceUID),
    [ours.SOPInstanceUID],
  );
  t.deepEqual(failed(res.body), [{ SOPInstanceUID: other.SOPInstanceUID, FailureReason: 0x0110 }]);
  await lightbox.settled();
  t.is(
    (await client.searchForStudies({ queryParams: { StudyInstanceUID: other.StudyInstanceUID } }))
      .length,
    0,
  );
});

// Serial: it checks that the spool holds no reception, which a concurrent test could be writing.
test.serial(
  '409: nothing stored: not DICOM (C000), not application/dicom (C000), too large (A700)',
  async (t) => {
    const large = instance(makeUID(), 512); // 512 × 512 × 2 bytes: over the 200 kB configured
    const res = await post([
      Buffer.from('this is not a DICOM file at all'),
      { type: 'application/dicom+json', bytes: Buffer.from('{}') },
      large.bytes,
    ]);
    t.is(res.status, 409);
    t.is(res.type, 'application/dicom+json');
    t.deepEqual(failed(res.body), [
      { SOPInstanceUID: undefined, FailureReason: 0xc000 },
      { SOPInstanceUID: undefined, FailureReason: 0xc000 },
      { SOPInstanceUID: large.SOPInstanceUID, FailureReason: 0xa700 },
    ]);
    t.is(referenced(res.body).length, 0);
    const spool = path.join(lightbox.dataDirectory, 'spool');
    t.deepEqual(await spoolEntries(spool, 'incoming'), [], 'no reception left in the spool');
  },
);

test('a body cut before its close delimiter keeps the whole parts and fails the cut one', async (t) => {
  const a = instance();
  const b = instance(a.StudyInstanceUID);
  const boundary = 'cut-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    a.bytes,
    Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    b.bytes.subarray(0, 1000),
  ]);
  const res = await authorizedFetch(`${lightbox.viewerApi.url}/dicom-web/studies`, {
    method: 'POST',
    headers: {
      'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    },
    body: new Uint8Array(body),
  });
  t.is(res.status, 202);
  const json = (await res.json()) as Json;
  t.deepEqual(
    referenced(json).map((r) => r.SOPInstanceUID),
    [a.SOPInstanceUID],
  );
  t.is(failed(json).length, 1);
});

test('not multipart/related is 415, an empty body 400, no token 401: problem documents', async (t) => {
  const url = `${lightbox.viewerApi.url}/dicom-web/studies`;
  const json = await authorizedFetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/dicom' },
    body: new Uint8Array(instance().bytes),
  });
  t.is(json.status, 415);
  t.is(json.headers.get('content-type'), 'application/problem+json');
  const xml = await authorizedFetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'multipart/related; type="application/dicom+xml"; boundary=x' },
    body: '--x--',
  });
  t.is(xml.status, 415);
  const empty = await authorizedFetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x' },
    body: '--x--\r\n',
  });
  t.is(empty.status, 400);
  const anonymous = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=x' },
    body: '--x--\r\n',
  });
  t.is(anonymous.status, 401);
});
