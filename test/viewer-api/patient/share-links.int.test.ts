/**
 * Share links as an attacker sees them: a link's DICOMweb root works with dicomweb-client and no
 * Authorization header, shows exactly its grant (a series link never reaches a sibling), keeps
 * RetrieveURLs inside the link, dies at once when revoked or expired; random tokens are 404; a
 * PIN link needs its session token, counts wrong PINs and locks after five, even a right PIN after.
 * Only the token's SHA-256 is stored.
 */
import test from 'ava';
import { TEST_API_TOKEN, statusOf } from '../../helpers/dicomweb.js';
import {
  api,
  clientAt,
  expire,
  patient,
  storeStudy,
  studyUIDs,
  type Person,
  type StoredStudy,
} from '../../helpers/grants.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { makeUID } from '../../helpers/synthetic.js';

let lightbox: TestLightbox;
let alice: Person & { patientKey: string };
let study: StoredStudy;
let other: StoredStudy;
const PID = `PS-${makeUID().slice(-8)}`;

test.before(async () => {
  lightbox = await startTestLightbox({ viewerApi: { apiToken: TEST_API_TOKEN } });
  alice = await patient(lightbox, PID);
  study = await storeStudy(lightbox, PID, 2, 1);
  other = await storeStudy(lightbox, PID, 1, 1);
});
test.after.always(() => lightbox?.stop());

const root = (token: string) => `${lightbox.viewerApi.url}/share/${token}/dicom-web`;

async function share(body: Record<string, unknown>) {
  const res = await api(lightbox, alice.token, 'POST', '/api/share-links', body);
  if (res.status !== 201) throw new Error(`share link: ${res.status}`);
  return res.body as { shareLinkId: string; token: string; dicomWebRoot: string };
}

test.serial(
  'a study link is a DICOMweb root for any viewer, showing that study only',
  async (t) => {
    const link = await share({
      scope: { StudyInstanceUID: study.StudyInstanceUID },
      access: 'read',
    });
    t.is(link.dicomWebRoot, `/share/${link.token}/dicom-web`);
    t.regex(link.token, /^[A-Za-z0-9_-]{43}$/);
    const c = clientAt(root(link.token));
    const found = await c.searchForStudies({ queryParams: { PatientID: PID } });
    t.deepEqual(studyUIDs(found), [study.StudyInstanceUID]);
    t.true(String(found[0]['00081190'].Value?.[0]).startsWith(root(link.token)));
    const md = await c.retrieveStudyMetadata({ studyInstanceUID: study.StudyInstanceUID });
    t.is(md.length, 2);
    t.is(
      await statusOf(c.retrieveStudyMetadata({ studyInstanceUID: other.StudyInstanceUID })),
      404,
    );
    t.is(
      await statusOf(c.retrieveStudy({ studyInstanceUID: study.StudyInstanceUID })),
      404,
      'read only',
    );
    t.is(await statusOf(c.storeInstances({ datasets: [new ArrayBuffer(8)] })), 404);
    // The token is stored as its SHA-256 only.
    const rows = await lightbox.services.index.sql.query('SELECT * FROM share_link');
    t.false(JSON.stringify(rows).includes(link.token));
    // Revoked: the next request is 404, the root included.
    t.is(
      (await api(lightbox, alice.token, 'DELETE', `/api/share-links/${link.shareLinkId}`)).status,
      204,
    );
    t.is(await statusOf(c.searchForStudies()), 404);
    t.is(
      await statusOf(c.retrieveStudyMetadata({ studyInstanceUID: study.StudyInstanceUID })),
      404,
    );
    const listed = await api(lightbox, alice.token, 'GET', '/api/share-links');
    t.truthy(
      listed.body.find((l: { shareLinkId: string }) => l.shareLinkId === link.shareLinkId)
        .revokedAt,
    );
    t.false(JSON.stringify(listed.body).includes(link.token), 'the token is shown once only');
  },
);

test.serial(
  'a series link never reaches the sibling series; download links serve files',
  async (t) => {
    const [granted, sibling] = study.series;
    const link = await share({
      scope: {
        StudyInstanceUID: study.StudyInstanceUID,
        SeriesInstanceUID: granted.SeriesInstanceUID,
      },
      access: 'download',
    });
    const c = clientAt(root(link.token));
    const studyInstanceUID = study.StudyInstanceUID;
    t.deepEqual(
      (await c.searchForSeries({ studyInstanceUID })).map((m) => m['0020000E'].Value?.[0]),
      [granted.SeriesInstanceUID],
    );
    t.is((await c.retrieveStudy({ studyInstanceUID })).length, 1);
    const ids = {
      studyInstanceUID,
      seriesInstanceUID: sibling.SeriesInstanceUID,
      sopInstanceUID: sibling.SOPInstanceUIDs[0],
    };
    t.is(await statusOf(c.retrieveSeries(ids)), 404);
    t.is(await statusOf(c.retrieveInstanceMetadata(ids)), 404);
    t.is(await statusOf(c.retrieveInstanceFrames({ ...ids, frameNumbers: [1] })), 404);
  },
);

test.serial('expired links and random tokens are 404; brute force finds nothing', async (t) => {
  const link = await share({
    scope: { patientKey: alice.patientKey },
    access: 'read',
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });
  const c = clientAt(root(link.token));
  t.is((await c.searchForStudies()).length, 2);
  await expire(lightbox, 'share_link', link.shareLinkId);
  t.is(await statusOf(c.searchForStudies()), 404);
  const { randomBytes } = await import('node:crypto');
  for (let i = 0; i < 50; i++) {
    const guess = randomBytes(32).toString('base64url');
    t.is((await fetch(`${root(guess)}/studies`)).status, 404);
  }
  for (const bad of ['x', '../../api/me', link.token.slice(0, 42), `${link.token}A`]) {
    t.is((await fetch(`${root(encodeURIComponent(bad))}/studies`)).status, 404, bad);
  }
  // An account's token on someone else's link root does not help.
  t.is(
    (
      await fetch(`${root(link.token)}/studies`, {
        headers: { Authorization: `Bearer ${alice.token}` },
      })
    ).status,
    404,
  );
});

test.serial(
  'a PIN link needs its session; five wrong PINs lock it, even against the right PIN',
  async (t) => {
    const link = await share({
      scope: { StudyInstanceUID: study.StudyInstanceUID },
      access: 'read',
      pin: '246810',
    });
    t.like((await api(lightbox, undefined, 'GET', `/share/${link.token}`)).body, {
      pinRequired: true,
      locked: false,
    });
    t.is((await fetch(`${root(link.token)}/studies`)).status, 401);
    t.is(
      (
        await fetch(`${root(link.token)}/studies`, {
          headers: { Authorization: `Bearer ${alice.token}` },
        })
      ).status,
      401,
      'an account token is no session of the link',
    );
    const unlock = (pin: unknown) =>
      api(lightbox, undefined, 'POST', `/share/${link.token}/unlock`, { pin });
    const ok = await unlock('246810');
    t.is(ok.status, 200);
    const c = clientAt(root(link.token), ok.body.accessToken);
    t.deepEqual(studyUIDs(await c.searchForStudies()), [study.StudyInstanceUID]);
    // A session of one link is no session of another.
    const second = await share({
      scope: { patientKey: alice.patientKey },
      access: 'read',
      pin: '1111',
    });
    t.is(
      (
        await fetch(`${root(second.token)}/studies`, {
          headers: { Authorization: `Bearer ${ok.body.accessToken}` },
        })
      ).status,
      401,
    );
    // Wrong PINs, counted (in parallel too), then locked for good.
    const statuses = await Promise.all(
      ['0000', '1234', '999999', 'abcd'].map(unlock).map((p) => p.then((r) => r.status)),
    );
    t.deepEqual(statuses, [401, 401, 401, 401]);
    t.is((await unlock('000000')).status, 423);
    t.is((await unlock('246810')).status, 423, 'locked even for the right PIN');
    t.is(
      (
        await fetch(`${root(link.token)}/studies`, {
          headers: { Authorization: `Bearer ${ok.body.accessToken}` },
        })
      ).status,
      423,
    );
    t.like((await api(lightbox, undefined, 'GET', `/share/${link.token}`)).body, { locked: true });
    t.is(
      (
        await api(
          lightbox,
          undefined,
          'POST',
          `/share/${makeUID().slice(0, 43).padEnd(43, 'a')}/unlock`,
          { pin: '1234' },
        )
      ).status,
      404,
    );
  },
);
