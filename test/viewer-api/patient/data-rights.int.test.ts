/**
 * The patient API's data rights over a running Lightbox (storescu in, PostgreSQL index): a patient on
 * their own linked record can correct it (QIDO-RS and WADO-RS metadata serve the correction, WADO-RS
 * still returns the original bytes), restrict it (searches by others leave it out), export it (ZIP
 * with DICOMDIR) and erase it (receipt); another patient's record, or none, is 404.
 *
 * The patient principal comes from the grants branch's JWTs; until those are merged the test sets it
 * on the request itself, and creates patient_record_link as the brief's identity model names it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import Router from '@koa/router';
import test from 'ava';
import Koa from 'koa';
import { parseQidoParams } from '../../../viewer-api/dicomweb/qido-params.js';
import type { Principal } from '../../../core/grants/principal.js';
import { studyScope } from '../../../core/grants/scope.js';
import { problems } from '../../../viewer-api/problem.js';
import { dataRightsRoutes } from '../../../viewer-api/patient/data-rights.js';
import { linkedPatientKeys } from '../../../core/data-rights/patient-keys.js';
import { storescu } from '../../helpers/dcmtk.js';
import { authorizedFetch, TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../helpers/postgres.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { makeUID, writeInstanceFile } from '../../helpers/synthetic.js';
import { requireTool } from '../../helpers/tools.js';

const exec = promisify(execFile);

if ((await requirePostgres(test)) && (await requireTool(test, 'storescu'))) {
  let db: TestDatabase;
  let lightbox: TestLightbox;
  let api: http.Server;
  let apiUrl: string;
  const record: Record<'A' | 'B', { patientKey: string; StudyInstanceUID: string }> = {} as never;
  const files: string[] = [];

  test.before(async () => {
    db = await createTestDatabase();
    lightbox = await startTestLightbox({
      index: { kind: 'postgres', databaseUrl: db.url },
      viewerApi: { apiToken: TEST_API_TOKEN },
    });
    const inbox = path.join(lightbox.dataDirectory, 'in');
    await mkdir(inbox);
    for (const who of ['A', 'B'] as const) {
      const StudyInstanceUID = makeUID();
      const SeriesInstanceUID = makeUID();
      for (let i = 1; i <= 2; i++) {
        const file = path.join(inbox, `${who}${i}.dcm`);
        await writeInstanceFile(file, {
          StudyInstanceUID,
          SeriesInstanceUID,
          InstanceNumber: i,
          PatientID: `PID-${who}`,
          PatientName: `Original^${who}`,
        });
        files.push(file);
      }
      record[who] = { patientKey: '', StudyInstanceUID };
    }
    const sent = await storescu(lightbox.gateway.port, files);
    if (sent.code !== 0) throw new Error(sent.stderr);
    await lightbox.settled();
    const { sql } = lightbox.services.dataRights;
    for (const who of ['A', 'B'] as const) {
      const [row] = await sql.query(
        `SELECT patient_key::text AS k FROM patient WHERE patient_id = $1`,
        [`PID-${who}`],
      );
      record[who].patientKey = row.k as string;
    }
    // Accounts and links as `lightbox account create|link` makes them (migration 0002), and a
    // doctor with a live grant on record A.
    await sql.query(`INSERT INTO account (account_id, kind, display_name) VALUES
      ('acct-a', 'patient', 'A'), ('doc-1', 'doctor', 'Dr One')`);
    await sql.query(
      `INSERT INTO patient_record_link (account_id, patient_key) VALUES ('acct-a', $1::bigint)`,
      [record.A.patientKey],
    );
    await sql.query(
      `INSERT INTO access_grant (grant_id, grantor_account_id, grantee_account_id, patient_key, access)
       VALUES ('g-1', 'acct-a', 'doc-1', $1::bigint, 'read')`,
      [record.A.patientKey],
    );

    // The data-rights handlers behind a stand-in for the grants branch's authentication.
    const rights = dataRightsRoutes({
      dataRights: lightbox.services.dataRights,
      patientKeysOf: linkedPatientKeys(sql),
    });
    const router = new Router({ prefix: '/api' });
    router.use(async (ctx, next) => {
      const account = ctx.get('X-Test-Patient');
      ctx.state.principal = { kind: 'patient', accountId: account } satisfies Principal;
      await next();
    });
    router.post('/exports', rights.startExport);
    router.get('/exports/:id', rights.exportStatus);
    router.get('/exports/:id/download', rights.downloadExport);
    router.post('/erasure-requests', rights.requestErasure);
    router.put('/patient-records/:patientKey/restriction', rights.restrict);
    router.delete('/patient-records/:patientKey/restriction', rights.liftRestriction);
    router.post('/patient-records/:patientKey/rectifications', rights.rectify);
    router.get('/patient-records/:patientKey/rectifications', rights.rectifications);
    const app = new Koa();
    app.use(problems(lightbox.log));
    app.use(router.routes());
    api = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => api.once('listening', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api`;
  });
  test.after.always(async () => {
    api?.close();
    await lightbox?.stop();
    await db?.drop();
  });

  const call = (method: string, url: string, body?: unknown, account = 'acct-a') =>
    fetch(`${apiUrl}${url}`, {
      method,
      headers: { 'X-Test-Patient': account, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const dicomweb = (pathAndQuery: string) =>
    authorizedFetch(`${lightbox.viewerApi.url}/dicom-web${pathAndQuery}`);

  test.serial(
    'rectification: QIDO and metadata serve the correction, the bytes stay',
    async (t) => {
      const { patientKey, StudyInstanceUID } = record.A;
      const before = await dicomweb(`/studies/${StudyInstanceUID}/metadata`);
      const etagBefore = before.headers.get('ETag');
      const response = await call('POST', `/patient-records/${patientKey}/rectifications`, {
        attributes: { PatientName: 'Corrected^Anna', PatientSex: 'F' },
        reason: 'name misspelt at registration',
      });
      t.is(response.status, 201);
      t.like(await response.json(), { attributes: { PatientName: 'Corrected^Anna' } });

      const found = (await (await dicomweb('/studies?PatientName=corrected*')).json()) as Array<
        Record<string, { Value?: unknown[] }>
      >;
      t.is(found.length, 1);
      t.deepEqual(found[0]['00100010'].Value, [{ Alphabetic: 'Corrected^Anna' }]);
      t.deepEqual(found[0]['00100040']?.Value, ['F']);
      t.is((await (await dicomweb('/studies?PatientName=Original^A')).json()).length, 0);

      const after = await dicomweb(`/studies/${StudyInstanceUID}/metadata`);
      t.not(after.headers.get('ETag'), etagBefore, 'a cached copy is not revalidated');
      const metadata = (await after.json()) as Array<Record<string, { Value?: unknown[] }>>;
      t.is(metadata.length, 2);
      for (const m of metadata)
        t.deepEqual(m['00100010'].Value, [{ Alphabetic: 'Corrected^Anna' }]);
      t.deepEqual(metadata[0]['00100030'].Value, ['19700101'], 'not corrected: as received');

      // WADO-RS instance retrieve: the original bytes, byte for byte.
      const sop = (metadata[0]['00080018'].Value as string[])[0];
      const series = (metadata[0]['0020000E'].Value as string[])[0];
      const part = await dicomweb(
        `/studies/${StudyInstanceUID}/series/${series}/instances/${sop}`,
      ).then((r) => r.arrayBuffer());
      // (storescu may re-encode on send: the reference is what the archive stored and hashed.)
      const stored = await lightbox.services.index.getInstance(sop);
      const object = await readFile(
        path.join(lightbox.dataDirectory, 'objects', stored!.objectKey),
      );
      t.is(createHash('sha256').update(object).digest('hex'), stored!.sha256);
      t.true(Buffer.from(part).includes(object), 'the multipart body holds the stored bytes');
      t.true(object.includes(Buffer.from('Original^A')), 'the stored bytes keep the original name');

      const history = (await (
        await call('GET', `/patient-records/${patientKey}/rectifications`)
      ).json()) as unknown[];
      t.is(history.length, 1);
      t.is(
        (
          await call('POST', `/patient-records/${patientKey}/rectifications`, {
            attributes: { PatientSex: 'X' },
            reason: 'r',
          })
        ).status,
        400,
      );
    },
  );

  test.serial(
    'restriction: a grant stops serving until lifted; the patient still sees',
    async (t) => {
      const { patientKey, StudyInstanceUID } = record.A;
      const search = async (principal: Principal) => {
        const { query } = parseQidoParams('study', {}, {}, studyScope(principal));
        const result = await lightbox.services.index.searchForStudies(query);
        return result.matches.map((m) => (m['0020000D'].Value as string[])[0]);
      };
      const doctor: Principal = { kind: 'doctor', accountId: 'doc-1' };
      const patient: Principal = { kind: 'patient', accountId: 'acct-a' };
      t.deepEqual(await search(doctor), [StudyInstanceUID]);
      t.is((await call('PUT', `/patient-records/${patientKey}/restriction`)).status, 204);
      t.deepEqual(await search(doctor), [], 'the grant does not serve a restricted record');
      t.deepEqual(await search(patient), [StudyInstanceUID], 'the patient still sees it');
      // The archive reader (integrity) still sees it.
      t.is((await (await dicomweb('/studies')).json()).length, 2);
      t.is((await call('DELETE', `/patient-records/${patientKey}/restriction`)).status, 204);
      t.deepEqual(await search(doctor), [StudyInstanceUID]);
    },
  );

  test.serial('another patient’s record, or none, is 404', async (t) => {
    t.is((await call('PUT', `/patient-records/${record.B.patientKey}/restriction`)).status, 404);
    t.is(
      (await call('POST', '/erasure-requests', { patientKey: record.B.patientKey })).status,
      404,
    );
    t.is(
      (await call('POST', '/exports', { patientKey: record.A.patientKey }, 'acct-b')).status,
      404,
    );
    t.is((await call('POST', '/exports', { patientKey: 'x' })).status, 404);
  });

  test.serial('export: 202, progress, then a ZIP with DICOMDIR', async (t) => {
    const started = await call('POST', '/exports', { patientKey: record.A.patientKey });
    t.is(started.status, 202);
    const { exportId } = (await started.json()) as { exportId: string };
    await lightbox.services.dataRights.exports.settled(exportId);
    t.deepEqual(await (await call('GET', `/exports/${exportId}`)).json(), {
      exportId,
      state: 'ready',
      done: 2,
      total: 2,
    });
    t.is((await call('GET', `/exports/${exportId}`, undefined, 'acct-b')).status, 404);
    const download = await call('GET', `/exports/${exportId}/download`);
    t.is(download.headers.get('Content-Type'), 'application/zip');
    const zip = path.join(lightbox.dataDirectory, 'download.zip');
    await writeFile(zip, Buffer.from(await download.arrayBuffer()));
    const listing = (await exec('unzip', ['-Z1', zip])).stdout.trim().split('\n');
    t.deepEqual(listing, [
      'DICOMDIR',
      'DICOM/P00000/S00000/R00000/I00000',
      'DICOM/P00000/S00000/R00000/I00001',
    ]);
    const first = (
      await exec('unzip', ['-p', zip, listing[1]], { encoding: 'buffer', maxBuffer: 1 << 24 })
    ).stdout;
    const stored = await lightbox.services.dataRights.sql.query(
      `SELECT sha256 FROM instance WHERE study_instance_uid = $1`,
      [record.A.StudyInstanceUID],
    );
    t.true(
      stored.some((r) => r.sha256 === createHash('sha256').update(first).digest('hex')),
      'byte-identical to a stored object',
    );
  });

  test.serial('erasure: 201 receipt; the record is gone for everyone', async (t) => {
    const response = await call('POST', '/erasure-requests', { patientKey: record.A.patientKey });
    t.is(response.status, 201);
    const receipt = (await response.json()) as {
      counts: Record<string, number>;
      receiptSha256: string;
    };
    t.like(receipt.counts, {
      studies: 1,
      instances: 2,
      exports: 1,
      rectifications: 1,
      recordLinks: 1,
    });
    t.regex(receipt.receiptSha256, /^[0-9a-f]{64}$/);
    const left = (await (await dicomweb('/studies')).json()) as Array<
      Record<string, { Value?: unknown[] }>
    >;
    t.deepEqual(
      left.map((s) => s['0020000D'].Value),
      [[record.B.StudyInstanceUID]],
    );
    t.is((await call('PUT', `/patient-records/${record.A.patientKey}/restriction`)).status, 404);
  });
}
