/**
 * CORS for browser viewers (OHIF) on another origin: preflights are answered without a token and
 * allow Authorization and Accept; every response carries Access-Control-Allow-Origin, errors (401,
 * 404, 406) included, so a page can read the problem document; an allowlist echoes only its origins.
 */
import test from 'ava';
import { TEST_API_TOKEN, authorizedFetch } from '../helpers/dicomweb.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { makeUID } from '../helpers/synthetic.js';

const ORIGIN = 'http://viewer.example:3000';
let open: TestLightbox;
let listed: TestLightbox;

test.before(async () => {
  [open, listed] = await Promise.all([
    startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } }),
    startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN, corsOrigins: [ORIGIN] } }),
  ]);
});
test.after.always(() => Promise.all([open?.stop(), listed?.stop()]));

function preflight(base: string, origin: string, path = '/dicom-web/studies') {
  return fetch(base + path, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization, accept',
    },
  });
}

test('a preflight needs no token and allows Authorization, Accept and the methods used', async (t) => {
  const res = await preflight(
    open.viewerApi.url,
    ORIGIN,
    `/dicom-web/studies/${makeUID()}/metadata`,
  );
  t.is(res.status, 204);
  t.is(res.headers.get('access-control-allow-origin'), '*');
  const headers = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
  for (const h of ['authorization', 'accept', 'content-type', 'range', 'if-none-match']) {
    t.true(headers.includes(h), h);
  }
  t.regex(res.headers.get('access-control-allow-methods') ?? '', /GET.*POST/);
  t.truthy(res.headers.get('access-control-max-age'));
});

test('errors carry CORS headers: 404, 401 and 406 are readable from the page', async (t) => {
  const headers = { Origin: ORIGIN };
  const missing = await authorizedFetch(
    `${open.viewerApi.url}/dicom-web/studies/${makeUID()}/metadata`,
    { headers },
  );
  t.is(missing.status, 404);
  t.is(missing.headers.get('access-control-allow-origin'), '*');
  t.regex(missing.headers.get('access-control-expose-headers') ?? '', /ETag.*WWW-Authenticate/);
  t.like(await missing.json(), { status: 404 });
  const anonymous = await fetch(`${open.viewerApi.url}/dicom-web/studies`, { headers });
  t.is(anonymous.status, 401);
  t.is(anonymous.headers.get('access-control-allow-origin'), '*');
  const notAcceptable = await authorizedFetch(`${open.viewerApi.url}/dicom-web/studies`, {
    headers: { ...headers, Accept: 'application/dicom+xml' },
  });
  t.is(notAcceptable.status, 406);
  t.is(notAcceptable.headers.get('access-control-allow-origin'), '*');
  const ok = await authorizedFetch(`${open.viewerApi.url}/dicom-web/studies`, { headers });
  t.is(ok.status, 200);
  t.is(ok.headers.get('access-control-allow-origin'), '*');
});

test('with an allowlist, a listed origin is echoed (Vary: Origin) and others get no CORS headers', async (t) => {
  const allowed = await preflight(listed.viewerApi.url, ORIGIN);
  t.is(allowed.status, 204);
  t.is(allowed.headers.get('access-control-allow-origin'), ORIGIN);
  t.regex(allowed.headers.get('vary') ?? '', /Origin/);
  const other = await authorizedFetch(`${listed.viewerApi.url}/dicom-web/studies`, {
    headers: { Origin: 'http://elsewhere.example' },
  });
  t.is(other.headers.get('access-control-allow-origin'), null);
  const missing = await authorizedFetch(`${listed.viewerApi.url}/dicom-web/studies/${makeUID()}`, {
    headers: { Origin: ORIGIN },
  });
  t.is(missing.status, 404);
  t.is(missing.headers.get('access-control-allow-origin'), ORIGIN);
});
