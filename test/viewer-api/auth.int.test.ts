/**
 * Default deny at the viewer API (auth.ts, core/grants): without the bearer token, or with another,
 * every DICOMweb resource is 401 with WWW-Authenticate (RFC 6750), before anything is looked up; with
 * it, an absent study is 404 like any study not granted. The embedded start generates the token
 * once, keeps it 0600 beside the spool and logs it once per start.
 */
import test from 'ava';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../core/log.js';
import { TEST_API_TOKEN, arrayBufferOf, dicomwebClient, statusOf } from '../helpers/dicomweb.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../helpers/synthetic.js';

let lightbox: TestLightbox;
const study = makeUID();

test.before(async () => {
  lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
  const bytes = encodeInstance({ StudyInstanceUID: study, SeriesInstanceUID: makeUID() });
  await dicomwebClient(lightbox.viewerApi.url).storeInstances({ datasets: [arrayBufferOf(bytes)] });
  await lightbox.settled();
});
test.after.always(() => lightbox?.stop());

const RESOURCES = [
  'GET /dicom-web/studies',
  'GET /dicom-web/series',
  'GET /dicom-web/instances',
  'GET /dicom-web/studies/{study}',
  'GET /dicom-web/studies/{study}/metadata',
  'GET /dicom-web/studies/{study}/series',
  'GET /dicom-web/studies/1.2.3/series/1.2.4/instances/1.2.5/frames/1',
  'GET /dicom-web/studies/1.2.3/series/1.2.4/instances/1.2.5/bulkdata/7FE00010',
  'POST /dicom-web/studies',
];

test('no token, another token or another scheme: 401 with WWW-Authenticate, on every resource', async (t) => {
  for (const resource of RESOURCES) {
    const [method, route] = resource.split(' ');
    const url = lightbox.viewerApi.url + route.replace('{study}', study);
    const attempts = [
      undefined,
      'Bearer wrong-token-of-the-right-length-000000000',
      `Basic ${TEST_API_TOKEN}`,
      `Bearer ${TEST_API_TOKEN}x`,
    ];
    for (const authorization of attempts) {
      const res = await fetch(url, {
        method,
        headers: authorization ? { Authorization: authorization } : {},
      });
      t.is(res.status, 401, `${resource} ${authorization}`);
      t.is(res.headers.get('content-type'), 'application/problem+json');
      t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer realm="lightbox"/);
      t.like(await res.json(), { type: 'about:blank', status: 401, title: 'Unauthorized' });
    }
  }
  const client = dicomwebClient(
    lightbox.viewerApi.url,
    'some-other-token-that-is-long-enough-0000',
  );
  t.is(await statusOf(client.searchForStudies()), 401);
});

test('with the token: the study is found; an absent one is 404, like one not granted', async (t) => {
  const client = dicomwebClient(lightbox.viewerApi.url);
  t.is((await client.searchForStudies({ queryParams: { StudyInstanceUID: study } })).length, 1);
  t.is((await client.retrieveStudyMetadata({ studyInstanceUID: study })).length, 1);
  t.is(await statusOf(client.retrieveStudyMetadata({ studyInstanceUID: makeUID() })), 404);
  t.is(await statusOf(client.retrieveStudy({ studyInstanceUID: makeUID() })), 404);
  // Health endpoints need no token and say nothing about studies.
  t.is((await fetch(`${lightbox.viewerApi.url}/healthz`)).status, 200);
});

test('the embedded start generates a token once (0600), reuses it, and logs it once per start', async (t) => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().trim().split('\n'));
      done();
    },
  });
  const log = createLogger({ level: 'info' }, {}, destination);
  const first = await startTestLightbox({}, { log });
  t.teardown(() => first.stop());
  const file = path.join(first.dataDirectory, 'api-token');
  const token = (await readFile(file, 'utf8')).trim();
  t.true(token.length >= 32);
  t.is((await stat(file)).mode & 0o777, 0o600);
  const logged = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.apiToken);
  t.is(logged.length, 1);
  t.like(logged[0], { level: 30, apiToken: token, generated: true });
  t.is(await statusOf(dicomwebClient(first.viewerApi.url, token).searchForStudies()), 200);
  t.is(await statusOf(dicomwebClient(first.viewerApi.url).searchForStudies()), 401);

  await first.stop({ keepData: true });
  lines.length = 0;
  const second = await startTestLightbox({}, { dataDirectory: first.dataDirectory, log });
  t.teardown(() => second.stop());
  t.is((await readFile(file, 'utf8')).trim(), token);
  const again = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.apiToken);
  t.like(again, [{ apiToken: token, generated: false }]);
  t.is(await statusOf(dicomwebClient(second.viewerApi.url, token).searchForStudies()), 200);
});
