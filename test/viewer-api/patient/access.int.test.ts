/**
 * Adversarial tests of who sees what (core/grants through the viewer API, dicomweb-client as a
 * viewer): patients see their own records only (BOLA on study, series and instance UIDs, PatientID
 * and wildcard QIDO with limit/offset), doctors see exactly their live grants (patient record
 * including later studies, study, one series: never a sibling), read vs download, revocation and
 * expiry at once, organisations see what they sent, administrators see no images. On PGlite and
 * on PostgreSQL: the grant filters are SQL.
 */
import ava, { type ExecutionContext } from 'ava';
import { TEST_API_TOKEN, statusOf, type DICOMwebClient } from '../../helpers/dicomweb.js';
import {
  api,
  clientAt,
  expire,
  patient,
  person,
  storeStudy,
  studyUIDs,
  type Person,
  type StoredStudy,
} from '../../helpers/grants.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../helpers/postgres.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { makeUID } from '../../helpers/synthetic.js';

const ORGANISATIONS = [
  { id: 'north', name: 'North Imaging', aeTitles: ['NORTH'] },
  { id: 'south', name: 'South Imaging', aeTitles: ['SOUTH'] },
];

function accessTests(backend: string, index: () => Promise<Record<string, unknown>>): void {
  let lightbox: TestLightbox;
  let alice: Person & { patientKey: string };
  let bob: Person & { patientKey: string };
  let aliceStudies: StoredStudy[];
  let bobStudy: StoredStudy;
  const test = (title: string, fn: (t: ExecutionContext) => Promise<void>) =>
    ava.serial(`${backend}: ${title}`, fn);
  const client = (token: string) => clientAt(`${lightbox.viewerApi.url}/dicom-web`, token);
  const PID_A = `PA-${makeUID().slice(-8)}`;
  const PID_B = `PB-${makeUID().slice(-8)}`;

  ava.before(async () => {
    lightbox = await startTestLightbox({
      viewerApi: { apiToken: TEST_API_TOKEN },
      index: await index(),
      organisations: ORGANISATIONS,
    });
    alice = await patient(lightbox, PID_A);
    bob = await patient(lightbox, PID_B);
    aliceStudies = [
      await storeStudy(lightbox, PID_A, 2, 1, { StudyDate: '20240101' }),
      await storeStudy(lightbox, PID_A, 1, 1, { StudyDate: '20240202' }),
      await storeStudy(lightbox, PID_A, 1, 1, { StudyDate: '20240303' }),
    ];
    bobStudy = await storeStudy(lightbox, PID_B, 2, 2);
  });
  ava.after.always(() => lightbox?.stop());

  /** Every read resource of a study, series and instance: each must be 404 for `c`. */
  async function assertNothingOf(t: ExecutionContext, c: DICOMwebClient, s: StoredStudy) {
    const owner = s === bobStudy ? PID_B : PID_A;
    const studyInstanceUID = s.StudyInstanceUID;
    const seriesInstanceUID = s.series[0].SeriesInstanceUID;
    const sopInstanceUID = s.series[0].SOPInstanceUIDs[0];
    const ids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
    t.is(await statusOf(c.retrieveStudyMetadata({ studyInstanceUID })), 404);
    t.is(await statusOf(c.retrieveSeriesMetadata(ids)), 404);
    t.is(await statusOf(c.retrieveInstanceMetadata(ids)), 404);
    t.is(await statusOf(c.retrieveStudy({ studyInstanceUID })), 404);
    t.is(await statusOf(c.retrieveSeries(ids)), 404);
    t.is(await statusOf(c.retrieveInstance(ids)), 404);
    t.is(await statusOf(c.retrieveInstanceFrames({ ...ids, frameNumbers: [1] })), 404);
    t.is(await statusOf(c.searchForSeries({ studyInstanceUID })), 404);
    t.is(await statusOf(c.searchForInstances({ studyInstanceUID, seriesInstanceUID })), 404);
    const token = (c as unknown as { headers: { Authorization: string } }).headers.Authorization;
    const base = `${lightbox.viewerApi.url}/dicom-web/studies/${studyInstanceUID}/series/${seriesInstanceUID}/instances/${sopInstanceUID}`;
    for (const path of ['/rendered', '/thumbnail', '/frames/1/rendered', '/bulkdata/7FE00010']) {
      const res = await fetch(base + path, { headers: { Authorization: token } });
      t.is(res.status, 404, path);
    }
    const wado = `${lightbox.viewerApi.url}/wado?requestType=WADO&studyUID=${studyInstanceUID}&seriesUID=${seriesInstanceUID}&objectUID=${sopInstanceUID}&contentType=application/dicom`;
    t.is((await fetch(wado, { headers: { Authorization: token } })).status, 404);
    for (const key of ['PatientID', 'StudyInstanceUID']) {
      const value = key === 'PatientID' ? owner : studyInstanceUID;
      const found = studyUIDs(await c.searchForStudies({ queryParams: { [key]: value } }));
      t.false(found.includes(studyInstanceUID), key);
    }
  }

  test('a patient sees the studies of their own record, and nothing of another patient', async (t) => {
    const c = client(alice.token);
    const all = await c.searchForStudies();
    t.deepEqual(studyUIDs(all), aliceStudies.map((s) => s.StudyInstanceUID).sort());
    const md = await c.retrieveStudyMetadata({
      studyInstanceUID: aliceStudies[0].StudyInstanceUID,
    });
    t.is(md.length, 2);
    await assertNothingOf(t, c, bobStudy);
    // Bob's token on Alice's data: the same refusal.
    await assertNothingOf(t, client(bob.token), aliceStudies[0]);
  });

  test('QIDO by PatientID or wildcard never leaks, and limit/offset count only visible studies', async (t) => {
    const c = client(alice.token);
    t.deepEqual(await c.searchForStudies({ queryParams: { PatientID: PID_B } }), []);
    t.deepEqual(
      await c.searchForStudies({ queryParams: { PatientID: 'P*' } }).then(studyUIDs),
      aliceStudies.map((s) => s.StudyInstanceUID).sort(),
    );
    t.deepEqual(
      await c.searchForStudies({ queryParams: { PatientName: '*' } }).then((m) => m.length),
      3,
    );
    const pages: string[] = [];
    for (let offset = 0; offset < 5; offset++) {
      const page = await c.searchForStudies({ queryParams: { limit: 1, offset } });
      pages.push(...studyUIDs(page));
    }
    t.deepEqual(pages.sort(), aliceStudies.map((s) => s.StudyInstanceUID).sort());
    const series = await c.searchForSeries({ queryParams: { limit: 100 } });
    t.is(series.length, 4);
    t.false(JSON.stringify(series).includes(bobStudy.StudyInstanceUID));
    const instances = await c.searchForInstances({ queryParams: { PatientID: PID_B } });
    t.deepEqual(instances, []);
  });

  test('a doctor sees nothing without a grant; a study grant shows that study only', async (t) => {
    const doctor = await person(lightbox, 'doctor', 'Dr Study');
    const c = client(doctor.token);
    t.deepEqual(await c.searchForStudies(), []);
    await assertNothingOf(t, c, aliceStudies[0]);
    const created = await api(lightbox, alice.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { StudyInstanceUID: aliceStudies[1].StudyInstanceUID },
      access: 'read',
    });
    t.is(created.status, 201);
    t.like(created.body, {
      grantee: { kind: 'doctor', accountId: doctor.account.accountId, displayName: 'Dr Study' },
      access: 'read',
      revokedAt: null,
      expiresAt: null,
    });
    t.deepEqual(studyUIDs(await c.searchForStudies()), [aliceStudies[1].StudyInstanceUID]);
    t.deepEqual(await c.searchForStudies({ queryParams: { PatientID: PID_A } }).then(studyUIDs), [
      aliceStudies[1].StudyInstanceUID,
    ]);
    const md = await c.retrieveStudyMetadata({
      studyInstanceUID: aliceStudies[1].StudyInstanceUID,
    });
    t.is(md.length, 1);
    await assertNothingOf(t, c, aliceStudies[0]);
    await assertNothingOf(t, c, bobStudy);
  });

  test("'read' shows metadata and frames but not the stored files; 'download' does", async (t) => {
    const doctor = await person(lightbox, 'doctor', 'Dr Read');
    const s = aliceStudies[0];
    const studyInstanceUID = s.StudyInstanceUID;
    const grant = async (access: string) =>
      api(lightbox, alice.token, 'POST', '/api/grants', {
        grantee: { accountId: doctor.account.accountId },
        scope: { StudyInstanceUID: studyInstanceUID },
        access,
      });
    await grant('read');
    const c = client(doctor.token);
    t.is((await c.retrieveStudyMetadata({ studyInstanceUID })).length, 2);
    const ids = {
      studyInstanceUID,
      seriesInstanceUID: s.series[0].SeriesInstanceUID,
      sopInstanceUID: s.series[0].SOPInstanceUIDs[0],
    };
    t.is((await c.retrieveInstanceFrames({ ...ids, frameNumbers: [1] })).length, 1);
    t.is(await statusOf(c.retrieveStudy({ studyInstanceUID })), 404);
    t.is(await statusOf(c.retrieveInstance(ids)), 404);
    await grant('download');
    t.is((await c.retrieveStudy({ studyInstanceUID })).length, 2);
  });

  test('a series grant reaches that series only: QIDO, metadata, WADO, frames, rendered', async (t) => {
    const doctor = await person(lightbox, 'doctor', 'Dr Series');
    const s = bobStudy;
    const [granted, sibling] = s.series;
    await api(lightbox, bob.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { StudyInstanceUID: s.StudyInstanceUID, SeriesInstanceUID: granted.SeriesInstanceUID },
      access: 'download',
    });
    const c = client(doctor.token);
    const studyInstanceUID = s.StudyInstanceUID;
    t.deepEqual(studyUIDs(await c.searchForStudies()), [studyInstanceUID]);
    const series = await c.searchForSeries({ studyInstanceUID });
    t.deepEqual(
      series.map((m) => m['0020000E'].Value?.[0]),
      [granted.SeriesInstanceUID],
    );
    t.deepEqual(
      (await c.searchForSeries()).map((m) => m['0020000E'].Value?.[0]),
      [granted.SeriesInstanceUID],
    );
    t.is((await c.searchForInstances({ studyInstanceUID })).length, 2);
    t.is((await c.searchForInstances()).length, 2);
    const md = await c.retrieveStudyMetadata({ studyInstanceUID });
    t.deepEqual([...new Set(md.map((m) => m['0020000E'].Value?.[0]))], [granted.SeriesInstanceUID]);
    t.is((await c.retrieveStudy({ studyInstanceUID })).length, 2);
    const ids = {
      studyInstanceUID,
      seriesInstanceUID: sibling.SeriesInstanceUID,
      sopInstanceUID: sibling.SOPInstanceUIDs[0],
    };
    t.is(await statusOf(c.retrieveSeriesMetadata(ids)), 404);
    t.is(await statusOf(c.retrieveSeries(ids)), 404);
    t.is(await statusOf(c.retrieveInstance(ids)), 404);
    t.is(await statusOf(c.retrieveInstanceFrames({ ...ids, frameNumbers: [1] })), 404);
    t.is(await statusOf(c.searchForInstances(ids)), 404);
    const base = `${lightbox.viewerApi.url}/dicom-web/studies/${studyInstanceUID}/series/${sibling.SeriesInstanceUID}`;
    for (const path of ['/thumbnail', `/instances/${sibling.SOPInstanceUIDs[0]}/rendered`]) {
      t.is(
        (await fetch(base + path, { headers: { Authorization: `Bearer ${doctor.token}` } })).status,
        404,
      );
    }
    // A sibling instance named under the granted series does not exist there.
    const wrong = { ...ids, seriesInstanceUID: granted.SeriesInstanceUID };
    t.is(await statusOf(c.retrieveInstance(wrong)), 404);
  });

  test('a patient-record grant covers later studies; revocation and expiry take effect at once', async (t) => {
    const doctor = await person(lightbox, 'doctor', 'Dr Record');
    const c = client(doctor.token);
    const created = await api(lightbox, alice.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { patientKey: alice.patientKey },
      access: 'read',
    });
    t.is(created.status, 201);
    t.is((await c.searchForStudies()).length, 3);
    const later = await storeStudy(lightbox, PID_A, 1, 1);
    t.true(studyUIDs(await c.searchForStudies()).includes(later.StudyInstanceUID));
    aliceStudies.push(later);
    // Revoked: the very next request is refused.
    t.is(
      (await api(lightbox, alice.token, 'DELETE', `/api/grants/${created.body.grantId}`)).status,
      204,
    );
    t.deepEqual(await c.searchForStudies(), []);
    t.is(
      await statusOf(c.retrieveStudyMetadata({ studyInstanceUID: later.StudyInstanceUID })),
      404,
    );
    const given = await api(lightbox, alice.token, 'GET', '/api/grants');
    t.truthy(
      given.body.find((g: { grantId: string }) => g.grantId === created.body.grantId).revokedAt,
    );
    t.false(
      (await api(lightbox, doctor.token, 'GET', '/api/grants')).body.some(
        (g: { grantId: string }) => g.grantId === created.body.grantId,
      ),
    );
    // Bob cannot revoke Alice's grants, nor grant on her records.
    t.is(
      (await api(lightbox, bob.token, 'DELETE', `/api/grants/${created.body.grantId}`)).status,
      404,
    );
    const stolen = await api(lightbox, bob.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { patientKey: alice.patientKey },
      access: 'download',
    });
    t.is(stolen.status, 404);
    const stolenStudy = await api(lightbox, bob.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { StudyInstanceUID: aliceStudies[0].StudyInstanceUID },
      access: 'download',
    });
    t.is(stolenStudy.status, 404);
    t.deepEqual(await c.searchForStudies(), []);
    // Expiry: a grant whose time has passed counts for nothing, without any revocation.
    const soon = await api(lightbox, alice.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { patientKey: alice.patientKey },
      access: 'read',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    t.is((await c.searchForStudies()).length, 4);
    await expire(lightbox, 'access_grant', soon.body.grantId);
    t.deepEqual(await c.searchForStudies(), []);
    t.is(
      await statusOf(c.retrieveStudyMetadata({ studyInstanceUID: later.StudyInstanceUID })),
      404,
    );
    const past = await api(lightbox, alice.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { patientKey: alice.patientKey },
      access: 'read',
      expiresAt: '2000-01-01T00:00:00Z',
    });
    t.is(past.status, 400);
  });

  test('administrators see no images; organisations see the studies they sent', async (t) => {
    const platform = await person(lightbox, 'platform-admin', 'Platform');
    const orgAdmin = await person(lightbox, 'organisation-admin', 'North admin', 'north');
    for (const admin of [platform, orgAdmin]) {
      const c = client(admin.token);
      t.deepEqual(await c.searchForStudies(), []);
      t.deepEqual(await c.searchForInstances(), []);
      await assertNothingOf(t, c, aliceStudies[0]);
      t.is((await api(lightbox, admin.token, 'GET', '/api/patient-records')).status, 404);
      t.is((await api(lightbox, admin.token, 'GET', '/api/audit')).status, 404);
    }
    const { tokens } = lightbox.services.grants;
    const north = (
      await tokens.sign({ sub: 'north-pacs', kind: 'organisation', organisationId: 'north' })
    ).token;
    const south = (
      await tokens.sign({ sub: 'south-pacs', kind: 'organisation', organisationId: 'south' })
    ).token;
    const northClient = client(north);
    t.deepEqual(
      await northClient.searchForStudies(),
      [],
      'studies sent by the archive reader belong to no organisation',
    );
    const { encodeInstance } = await import('../../helpers/synthetic.js');
    const { arrayBufferOf } = await import('../../helpers/dicomweb.js');
    const StudyInstanceUID = makeUID();
    const bytes = encodeInstance({
      StudyInstanceUID,
      SeriesInstanceUID: makeUID(),
      PatientID: PID_B,
      Rows: 8,
      Columns: 8,
    });
    await northClient.storeInstances({ datasets: [arrayBufferOf(bytes)] });
    await lightbox.settled();
    t.deepEqual(studyUIDs(await northClient.searchForStudies()), [StudyInstanceUID]);
    t.deepEqual(await client(south).searchForStudies(), []);
    t.is(
      await statusOf(client(south).retrieveStudyMetadata({ studyInstanceUID: StudyInstanceUID })),
      404,
    );
    // Bob's record now holds North's study too: the patient sees every study of the record.
    t.true(studyUIDs(await client(bob.token).searchForStudies()).includes(StudyInstanceUID));
    // A patient, a doctor and an administrator cannot store.
    t.is(
      await statusOf(client(alice.token).storeInstances({ datasets: [arrayBufferOf(bytes)] })),
      404,
    );
  });
}

const withPostgres = await requirePostgres(ava);
accessTests('pglite', async () => ({ kind: 'pglite' }));
if (withPostgres) {
  let database: TestDatabase | undefined;
  ava.after.always(() => database?.drop());
  accessTests('postgres', async () => {
    database = await createTestDatabase();
    return { kind: 'postgres', databaseUrl: database.url };
  });
}
