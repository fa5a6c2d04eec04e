/**
 * WADO-RS metadata served through the metadata cache: a second request returns the same bytes, an
 * instance added to the study appears, a header rectified in the index (its row updated) is served
 * new with a new ETag, the target's version follows every change, and the cache itself evicts the
 * least recently used responses first. A study just stored is built ahead (metadata-warmer.ts): its
 * first request reads the version only, and the body is the one a request would have built, for
 * whichever base URL asks.
 */
import http from 'node:http';
import test, { type ExecutionContext } from 'ava';
import type { IndexStore } from '../../../core/archive/index-store.js';
import type { SqlIndexStore } from '../../../core/archive/sql-index-store.js';
import { MetadataBody, MetadataCache } from '../../../viewer-api/dicomweb/metadata-cache.js';
import { DEFAULT_METADATA_WARMER_OPTIONS } from '../../../viewer-api/dicomweb/metadata-warmer.js';
import {
  TEST_API_TOKEN,
  arrayBufferOf,
  authorizedFetch,
  dicomwebClient,
} from '../../helpers/dicomweb.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../../helpers/synthetic.js';

/** GET with headers fetch may not send (Host). */
function getText(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {
      headers: { Authorization: `Bearer ${TEST_API_TOKEN}`, ...headers },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

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

/** The index reads of the metadata resource, in order ('version', 'metadata'), until the test ends. */
function indexReads(t: ExecutionContext): string[] {
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
  return calls;
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
  // A body counts twice its text: the parts, and one rendering.
  const cache = new MetadataCache(20);
  const entry = (text: string) => ({ version: 'v1', body: new MetadataBody([text]) });
  const text = (key: string) => cache.get(key)?.body.render('').toString();
  cache.set('1', entry('aaaa'));
  cache.set('2', entry('bbbb'));
  t.is(text('1'), 'aaaa'); // 1 is now the most recent
  cache.set('3', entry('cccc')); // 24 bytes: the least recently used (2) goes
  t.is(cache.get('2'), undefined);
  t.is(text('1'), 'aaaa');
  t.is(text('3'), 'cccc');
  t.deepEqual(cache.size, { entries: 2, bytes: 16 });
  t.false(cache.set('4', entry('x'.repeat(11)))); // larger than the whole cache: nothing evicted
  t.deepEqual(cache.size, { entries: 2, bytes: 16 });
  cache.set('1', entry('aaaaaa')); // replacing an entry counts its new size only
  t.deepEqual(cache.size, { entries: 2, bytes: 20 });
  // Without eviction an entry is kept only in free room.
  t.false(cache.set('5', entry('e'), { evict: false }));
  t.deepEqual(cache.size, { entries: 2, bytes: 20 });
  cache.delete('3');
  t.deepEqual(cache.size, { entries: 1, bytes: 12 });
  t.true(cache.set('5', entry('e'), { evict: false }));
  t.is(cache.peek('1')?.version, 'v1');
});

test('a kept body is rendered for each base URL, JSON-escaped where it goes', (t) => {
  const body = MetadataBody.fromTemplate('[{"u":"@@/a"},{"u":"@@/b"}]', '@@');
  t.is(
    body.render('http://h/dicom-web').toString(),
    '[{"u":"http://h/dicom-web/a"},{"u":"http://h/dicom-web/b"}]',
  );
  const odd = body.render('http://h"\\x').toString();
  t.deepEqual(
    (JSON.parse(odd) as { u: string }[]).map((o) => o.u),
    ['http://h"\\x/a', 'http://h"\\x/b'],
  );
  t.is(body.render('http://h"\\x'), body.render('http://h"\\x'), 'the last rendering is kept');
});

test('a target is the same key whatever the order of its readable series', (t) => {
  const StudyInstanceUID = '1.2.3';
  t.is(
    MetadataCache.key({ StudyInstanceUID, SeriesInstanceUIDs: ['1.2.3.5', '1.2.3.4'] }),
    MetadataCache.key({ StudyInstanceUID, SeriesInstanceUIDs: ['1.2.3.4', '1.2.3.5'] }),
  );
  t.not(
    MetadataCache.key({ StudyInstanceUID, SeriesInstanceUIDs: ['1.2.3.4'] }),
    MetadataCache.key({ StudyInstanceUID, SeriesInstanceUIDs: ['1.2.3.4', '1.2.3.5'] }),
  );
});

test.serial(
  "a target's first read takes one index query (headers and version together), later reads its version only",
  async (t) => {
    await lightbox.viewerApi.metadataWarmer.idle(); // its reads are not this test's
    const calls = indexReads(t);
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

test.serial(
  'a study just stored is built ahead: its first request reads the version only, same bytes',
  async (t) => {
    const study = makeUID();
    const series = makeUID();
    const { minInstances } = DEFAULT_METADATA_WARMER_OPTIONS;
    const client = dicomwebClient(lightbox.viewerApi.url);
    await client.storeInstances({
      // A smaller study is left to its first request.
      datasets: Array.from({ length: minInstances }, (_, i) => i + 1).map((n) =>
        arrayBufferOf(
          encodeInstance({
            StudyInstanceUID: study,
            SeriesInstanceUID: series,
            InstanceNumber: n,
            PatientName: 'Ahead^Built',
          }),
        ),
      ),
    });
    await lightbox.settled();
    await lightbox.viewerApi.metadataWarmer.idle();

    const calls = indexReads(t);
    const url = `${lightbox.viewerApi.url}/dicom-web/studies/${study}/metadata`;
    const first = await authorizedFetch(url);
    const text = await first.text();
    t.deepEqual(calls, ['version'], 'served from the response built ahead');
    const json = JSON.parse(text) as Json;
    t.deepEqual(
      numbers(json),
      Array.from({ length: minInstances }, (_, i) => i + 1),
    );
    const { BulkDataURI } = json[0]!['7FE00010'] as unknown as { BulkDataURI: string };
    t.true(BulkDataURI.startsWith(`${lightbox.viewerApi.url}/dicom-web/studies/${study}/series/`));
    // The same server by another name (Host) gets its own absolute URIs.
    const other = await getText(url, { Host: 'archive.example:8042' });
    t.is(other, text.replaceAll(`${lightbox.viewerApi.url}/`, 'http://archive.example:8042/'));
    // Each series is built ahead too (OHIF reads a study series by series).
    const seriesText = await (
      await authorizedFetch(
        `${lightbox.viewerApi.url}/dicom-web/studies/${study}/series/${series}/metadata`,
      )
    ).text();
    t.is(seriesText, text, 'the study has this one series');
    t.deepEqual(calls, ['version', 'version', 'version']);
  },
);
