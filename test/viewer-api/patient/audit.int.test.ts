/**
 * The audit trail and the logs. A C-STORE from an organisation's AE, a doctor's searches and
 * retrieves (and a refused one), grant and share-link changes and a PIN failure are all recorded
 * with who, what, when and how, and a patient reads exactly the events on their own records
 * (GET /api/audit), never another patient's. Meanwhile the logs, at trace level, carry no patient
 * name or ID, no UID, no token and no PIN.
 */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AuditEntry } from '../../../core/audit/audit-trail.js';
import { captureLog } from '../../helpers/log-capture.js';
import { storescu } from '../../helpers/dcmtk.js';
import { TEST_API_TOKEN, statusOf } from '../../helpers/dicomweb.js';
import { api, clientAt, patient, person, storeStudy } from '../../helpers/grants.js';
import { startTestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../../helpers/synthetic.js';
import { requireTool } from '../../helpers/tools.js';

type Entry = AuditEntry;

if (await requireTool(test, 'storescu')) {
  test('a patient reads who did what on their records; logs carry no patient data or secret', async (t) => {
    const { log, lines } = captureLog();
    const lightbox = await startTestLightbox(
      {
        viewerApi: { apiToken: TEST_API_TOKEN },
        organisations: [{ id: 'north', name: 'North Imaging', aeTitles: ['NORTHCT'] }],
      },
      { log },
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lightbox-audit-'));
    t.teardown(async () => {
      await lightbox.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const PatientID = 'PID-AUDIT-SECRET-41';
    const alice = await patient(lightbox, PatientID);
    const bob = await patient(lightbox, 'PID-AUDIT-OTHER-42');
    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    const SOPInstanceUID = makeUID();
    const file = path.join(dir, 'ct.dcm');
    await writeFile(
      file,
      encodeInstance({
        StudyInstanceUID,
        SeriesInstanceUID,
        SOPInstanceUID,
        PatientID,
        PatientName: 'Auditee^Jane',
        Rows: 8,
        Columns: 8,
      }),
    );
    await storescu(lightbox.gateway.port, [file], { callingAETitle: 'NORTHCT' });
    await lightbox.settled();
    const bobStudy = await storeStudy(lightbox, 'PID-AUDIT-OTHER-42', 1, 1);

    const doctor = await person(lightbox, 'doctor', 'Dr Audit');
    const grant = await api(lightbox, alice.token, 'POST', '/api/grants', {
      grantee: { accountId: doctor.account.accountId },
      scope: { StudyInstanceUID },
      access: 'read',
    });
    t.is(grant.status, 201);
    const c = clientAt(`${lightbox.viewerApi.url}/dicom-web`, doctor.token);
    t.is((await c.searchForStudies({ queryParams: { PatientID } })).length, 1);
    t.is(
      (
        await c.retrieveSeriesMetadata({
          studyInstanceUID: StudyInstanceUID,
          seriesInstanceUID: SeriesInstanceUID,
        })
      ).length,
      1,
    );
    t.is(
      await statusOf(c.retrieveStudy({ studyInstanceUID: StudyInstanceUID })),
      404,
      'read grant: no download',
    );
    t.is(
      (await api(lightbox, alice.token, 'DELETE', `/api/grants/${grant.body.grantId}`)).status,
      204,
    );
    t.is(await statusOf(c.retrieveStudyMetadata({ studyInstanceUID: StudyInstanceUID })), 404);
    const link = await api(lightbox, alice.token, 'POST', '/api/share-links', {
      scope: { StudyInstanceUID },
      access: 'read',
      pin: '8642',
    });
    const wrong = await api(lightbox, undefined, 'POST', `/share/${link.body.token}/unlock`, {
      pin: '0000',
    });
    t.is(wrong.status, 401);
    await api(lightbox, alice.token, 'DELETE', `/api/share-links/${link.body.shareLinkId}`);
    // Bob's study, touched by the archive reader: not in Alice's trail.
    const reader = clientAt(`${lightbox.viewerApi.url}/dicom-web`, TEST_API_TOKEN);
    await reader.retrieveStudyMetadata({ studyInstanceUID: bobStudy.StudyInstanceUID });
    // One search that finds both records: each patient reads it for their own study only.
    t.is((await reader.searchForStudies({ queryParams: { PatientID: 'PID-AUDIT-*' } })).length, 2);
    t.is((await reader.searchForSeries({ queryParams: { PatientID: 'PID-AUDIT-*' } })).length, 2);

    const trail = (await api(lightbox, alice.token, 'GET', '/api/audit?limit=100')).body as Entry[];
    const has = (action: string, fields: Partial<Entry> & { actorKind?: string; name?: string }) =>
      trail.some(
        (e) =>
          e.action === action &&
          (!fields.actorKind || e.actor.kind === fields.actorKind) &&
          (!fields.name || e.actor.displayName === fields.name) &&
          (!fields.outcome || e.outcome === fields.outcome) &&
          (!fields.via || e.via === fields.via) &&
          (!fields.StudyInstanceUID || e.StudyInstanceUID === fields.StudyInstanceUID),
      );
    t.true(
      has('store', {
        actorKind: 'organisation',
        name: 'North Imaging',
        via: 'dimse',
        StudyInstanceUID,
      }),
      'C-STORE by the organisation',
    );
    t.true(has('grant-create', { actorKind: 'patient', via: 'api', StudyInstanceUID }));
    t.true(
      has('query', { actorKind: 'doctor', name: 'Dr Audit', via: 'dicomweb', StudyInstanceUID }),
    );
    t.true(
      has('retrieve', { actorKind: 'doctor', name: 'Dr Audit', outcome: 'ok', StudyInstanceUID }),
    );
    t.true(
      has('retrieve', { actorKind: 'doctor', outcome: 'denied', StudyInstanceUID }),
      'a refused retrieve is recorded',
    );
    const readerQueries = trail.filter(
      (e) => e.action === 'query' && e.actor.kind === 'archive-reader',
    );
    t.deepEqual(
      readerQueries.map((e) => [e.StudyInstanceUID, e.SeriesInstanceUID]),
      [
        [StudyInstanceUID, SeriesInstanceUID],
        [StudyInstanceUID, undefined],
      ],
      "the archive reader's two searches, each naming Alice's study (and series) only",
    );
    t.true(has('grant-revoke', { actorKind: 'patient' }));
    t.true(has('share-link-create', { actorKind: 'patient', StudyInstanceUID }));
    t.true(
      has('share-link-unlock', { actorKind: 'share-link', outcome: 'denied', via: 'share-link' }),
    );
    t.true(has('share-link-revoke', { actorKind: 'patient' }));
    t.false(
      trail.some((e) => e.StudyInstanceUID === bobStudy.StudyInstanceUID),
      "no event of Bob's record",
    );
    t.true(
      trail.every((e, i) => i === 0 || trail[i - 1].at >= e.at),
      'newest first',
    );
    const page = (await api(lightbox, alice.token, 'GET', '/api/audit?limit=2&offset=1'))
      .body as Entry[];
    t.deepEqual(page, trail.slice(1, 3));
    const bobs = (await api(lightbox, bob.token, 'GET', '/api/audit')).body as Entry[];
    t.false(
      bobs.some((e) => e.StudyInstanceUID === StudyInstanceUID),
      "Bob reads nothing of Alice's",
    );
    t.deepEqual(
      bobs.filter((e) => e.action === 'query').map((e) => e.StudyInstanceUID),
      [bobStudy.StudyInstanceUID, bobStudy.StudyInstanceUID],
      'Bob reads the same two searches for his study',
    );
    t.is((await api(lightbox, doctor.token, 'GET', '/api/audit')).status, 404);

    const text = lines.join('');
    t.true(lines.length > 5, 'something was logged');
    const secrets = {
      PatientID,
      PatientName: 'Auditee',
      StudyInstanceUID,
      SeriesInstanceUID,
      SOPInstanceUID,
      token: link.body.token,
      jwt: doctor.token.split('.')[2],
      pin: '8642',
    };
    for (const [what, value] of Object.entries(secrets))
      t.false(text.includes(value), `${what} appears in the logs`);
  });
}
