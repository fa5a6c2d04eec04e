/**
 * WADO-RS metadata served through the metadata cache: a second request returns the same bytes, an
 * instance added to the study appears, a header rectified in the index (its row updated) is served
 * new with a new ETag, the target's version follows every change, and the cache itself evicts the
 * least recently used responses first.
 */
import test from 'ava';
import type { IndexStore } from '../../../core/archive/index-store.js';
import type { SqlIndexStore } from '../../../core/archive/sql-index-store.js';
import { MetadataCache } from '../../../viewer-api/dicomweb/metadata-cache.js';
import {
  TEST_API_TOKEN,
  arrayBufferOf,
  authorizedFetch,
  dicomwebClient,
} from '../../helpers/dicomweb.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../../helpers/synthetic.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>[];

let lightbox: TestLightbox;
const StudyInstanceUID = makeUID();
const SeriesInstanceUID = makeUID();
const instance = (InstanceNumber: number) =>
  encodeInstance({
    StudyInstanceUID,
    SeriesInstanceUID,
    InstanceNumber,
    PatientName: 'Cache^Test',
  });

test.before(async () => {
  lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
});
test.after.always(() => lightbox?.stop());

async function store(...numbers: number[]) {
  const client = dicomwebClient(lightbox.viewerApi.url);
  await client.storeInstances({ datasets: numbers.map((n) => arrayBufferOf(instance(n))) });
  await lightbox.settled();
}

async function studyMetadata(headers: Record<string, string> = {}) {
  const res = await authorizedFetch(
    `${lightbox.viewerApi.url}/dicom-web/studies/${StudyInstanceUID}/metadata`,
    { headers },
  );
  const text = await res.text();
  return { res, text, json: res.status === 200 ? (JSON.parse(text) as Json) : [] };
}

const numbers = (json: Json) => json.map((i) => i['00200013']?.Value?.[0]);
const names = (json: Json) =>
  json.map((i) => (i['00100010']?.Value?.[0] as { Alphabetic: string }).Alphabetic);

test.serial(
  'cached metadata is the same bytes; a new instance appears; a rectified header is served new',
  async (t) => {
    await store(1, 2);
    const first = await studyMetadata();
    t.deepEqual(numbers(first.json), [1, 2]);
    const second = await studyMetadata();
    t.is(second.text, first.text);
    t.is(second.res.headers.get('etag'), first.res.headers.get('etag'));

    await store(3);
    const third = await studyMetadata({ 'If-None-Match': first.res.headers.get('etag')! });
    t.is(third.res.status, 200, 'a new instance changes the ETag');
    t.deepEqual(numbers(third.json), [1, 2, 3]);
    t.true(
      third.text.startsWith(first.text.slice(0, -1)),
      'the first two instances come first, unchanged',
    );

    // A rectification (data-rights) updates the stored header in the index: the row's version moves.
    const sql = (lightbox.services.index as IndexStore as SqlIndexStore).sql;
    await sql.query(
      `UPDATE instance SET metadata = jsonb_set(metadata, '{00100010,Value,0,Alphabetic}', '"Rectified^Name"')
     WHERE study_instance_uid = $1`,
      [StudyInstanceUID],
    );
    const rectified = await studyMetadata({ 'If-None-Match': third.res.headers.get('etag')! });
    t.is(rectified.res.status, 200);
    t.not(rectified.res.headers.get('etag'), third.res.headers.get('etag'));
    t.deepEqual(names(rectified.json), ['Rectified^Name', 'Rectified^Name', 'Rectified^Name']);
    const again = await studyMetadata({ 'If-None-Match': rectified.res.headers.get('etag')! });
    t.is(again.res.status, 304);
  },
);

test('the cache keeps the most recently used responses within its size', (t) => {
  const cache = new MetadataCache(10);
  const entry = (text: string) => ({ version: 'v1', body: Buffer.from(text) });
  cache.set('1', entry('aaaa'));
  cache.set('2', entry('bbbb'));
  t.is(cache.get('1')?.body.toString(), 'aaaa'); // 1 is now the most recent
  cache.set('3', entry('cccc')); // 12 bytes: the least recently used (2) goes
  t.is(cache.get('2'), undefined);
  t.is(cache.get('1')?.body.toString(), 'aaaa');
  t.is(cache.get('3')?.body.toString(), 'cccc');
  t.deepEqual(cache.size, { entries: 2, bytes: 8 });
  cache.set('4', entry('x'.repeat(11))); // larger than the whole cache: not kept, nothing evicted
  t.deepEqual(cache.size, { entries: 2, bytes: 8 });
  cache.set('1', entry('aaaaaa')); // replacing an entry counts its new size only
  t.deepEqual(cache.size, { entries: 2, bytes: 10 });
  cache.delete('3');
  t.deepEqual(cache.size, { entries: 1, bytes: 6 });
});

test.serial(
  "a target's first read takes one index query (headers and version together), later reads its version only",
  async (t) => {
    const index = lightbox.services.index;
    const calls: string[] = [];
    const original = { version: index.targetVersion, metadata: index.retrieveMetadata };
    index.targetVersion = (...args) => (calls.push('version'), original.version.apply(index, args));
    index.retrieveMetadata = (...args) => (
      calls.push('metadata'),
      original.metadata.apply(index, args)
    );
    t.teardown(() =>
      Object.assign(index, {
        targetVersion: original.version,
        retrieveMetadata: original.metadata,
      }),
    );
    const series = (await studyMetadata()).json[0]!['0020000E']!.Value![0] as string;
    calls.length = 0;
    const url = `${lightbox.viewerApi.url}/dicom-web/studies/${StudyInstanceUID}/series/${series}/metadata`;
    const first = await authorizedFetch(url);
    const firstText = await first.text();
    t.deepEqual(calls, ['metadata'], 'first read: one query');
    const again = await authorizedFetch(url, {
      headers: { 'If-None-Match': first.headers.get('etag')! },
    });
    t.is(again.status, 304, 'the same ETag either way');
    const third = await authorizedFetch(url);
    t.is(await third.text(), firstText);
    t.deepEqual(
      calls,
      ['metadata', 'version', 'version'],
      'then its version only, the response kept',
    );
  },
);
