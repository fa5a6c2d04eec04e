/**
 * Bearer JWTs at the edge: only tokens signed by the installation's key (or a configured issuer's),
 * with the right issuer and audience, unexpired, of a known kind matching an existing account are
 * accepted; everything else is 401 before anything is looked up. The archive reader's API token
 * keeps working. The signing key is kept 0600 in the data directory.
 */
import test from 'ava';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { api, patient, person } from '../../helpers/grants.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';

let lightbox: TestLightbox;
let externalKey: CryptoKey;

test.before(async () => {
  const external = await generateKeyPair('ES256', { extractable: true });
  externalKey = external.privateKey;
  const publicJwk = { ...(await exportJWK(external.publicKey)), kid: 'external-1', alg: 'ES256' };
  lightbox = await startTestLightbox({
    viewerApi: { apiToken: TEST_API_TOKEN },
    auth: { publicKeys: [JSON.stringify(publicJwk)] },
    organisations: [{ id: 'north', name: 'North Imaging', aeTitles: ['NORTH'] }],
  });
});
test.after.always(() => lightbox?.stop());

const me = (token: string) => api(lightbox, token, 'GET', '/api/me');

async function signWith(
  key: CryptoKey,
  kid: string,
  claims: Record<string, unknown>,
  options: { iss?: string; aud?: string; exp?: number | string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(options.iss ?? 'lightbox')
    .setAudience(options.aud ?? 'lightbox')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '1h')
    .sign(key);
}

test('an installation token names its account; /api/me answers who', async (t) => {
  const alice = await patient(lightbox, 'P-TOKENS');
  const res = await me(alice.token);
  t.is(res.status, 200);
  t.deepEqual(res.body, {
    accountId: alice.account.accountId,
    kind: 'patient',
    displayName: 'Patient P-TOKENS',
  });
  t.is((await me(TEST_API_TOKEN)).body.kind, 'archive-reader');
  const key = await stat(path.join(lightbox.dataDirectory, 'auth-signing-key.json'));
  t.is(key.mode & 0o777, 0o600);
});

test('the first start made a platform administrator whose sign-in link works and sees no images', async (t) => {
  const url = lightbox.signInUrl;
  t.truthy(url);
  const match = /^http:\/\/127\.0\.0\.1:\d+\/portal\/#token=([\w.-]+)$/.exec(url ?? '');
  t.truthy(match, 'the token travels in the fragment');
  const res = await me(match![1]);
  t.like(res.body, { kind: 'platform-admin', displayName: 'Platform administrator' });
  const dicom = await fetch(`${lightbox.viewerApi.url}/dicom-web/studies`, {
    headers: { Authorization: `Bearer ${match![1]}` },
  });
  t.deepEqual(await dicom.json(), []);
  t.is((await api(lightbox, match![1], 'GET', '/api/patient-records')).status, 404);
});

test('forged, expired, wrong-issuer, wrong-audience, unknown-kind and alg none tokens are 401', async (t) => {
  const alice = await person(lightbox, 'patient', 'Alice');
  const sub = alice.account.accountId;
  const { privateKey: attacker } = await generateKeyPair('ES256');
  const kid = JSON.parse(Buffer.from(alice.token.split('.')[0], 'base64url').toString())
    .kid as string;
  const bad: Record<string, string> = {
    'forged with another key, same kid': await signWith(attacker, kid, { sub, kind: 'patient' }),
    'forged with another key, no kid': await new SignJWT({ sub, kind: 'patient' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('lightbox')
      .setAudience('lightbox')
      .setExpirationTime('1h')
      .sign(attacker),
    expired: (await lightbox.services.grants.tokens.sign({ sub, kind: 'patient' }, -120)).token,
    'wrong issuer': await signWith(
      externalKey,
      'external-1',
      { sub, kind: 'patient' },
      { iss: 'evil' },
    ),
    'wrong audience': await signWith(
      externalKey,
      'external-1',
      { sub, kind: 'patient' },
      { aud: 'other' },
    ),
    'unknown kind': (await lightbox.services.grants.tokens.sign({ sub, kind: 'superuser' })).token,
    'kind not the account’s': (await lightbox.services.grants.tokens.sign({ sub, kind: 'doctor' }))
      .token,
    'unknown account': (
      await lightbox.services.grants.tokens.sign({ sub: 'pat_nobody', kind: 'patient' })
    ).token,
    'unknown organisation': (
      await lightbox.services.grants.tokens.sign({
        sub: 'x',
        kind: 'organisation',
        organisationId: 'south',
      })
    ).token,
    'share-link session as an account token': (
      await lightbox.services.grants.tokens.signShareSession('shl_x', null)
    ).token,
    'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub, kind: 'patient', iss: 'lightbox', aud: 'lightbox', exp: 9999999999 })).toString('base64url')}.`,
    'tampered payload': (() => {
      const [h, , s] = alice.token.split('.');
      const p = Buffer.from(
        JSON.stringify({
          sub,
          kind: 'platform-admin',
          iss: 'lightbox',
          aud: 'lightbox',
          exp: 9999999999,
        }),
      ).toString('base64url');
      return `${h}.${p}.${s}`;
    })(),
  };
  for (const [name, token] of Object.entries(bad)) {
    const res = await me(token);
    t.is(res.status, 401, name);
    t.is(res.body.title, 'Unauthorized', name);
    const dicom = await fetch(`${lightbox.viewerApi.url}/dicom-web/studies`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    t.is(dicom.status, 401, `${name} on DICOMweb`);
  }
  t.is((await api(lightbox, undefined, 'GET', '/api/me')).status, 401);
});

test('a configured external issuer key is accepted for an existing account', async (t) => {
  const doctor = await person(lightbox, 'doctor', 'Dr External');
  const token = await signWith(externalKey, 'external-1', {
    sub: doctor.account.accountId,
    kind: 'doctor',
  });
  t.like((await me(token)).body, { accountId: doctor.account.accountId, kind: 'doctor' });
  const org = await signWith(externalKey, 'external-1', {
    sub: 'pacs',
    kind: 'organisation',
    organisationId: 'north',
  });
  t.like((await me(org)).body, {
    kind: 'organisation',
    organisationId: 'north',
    displayName: 'North Imaging',
  });
});
