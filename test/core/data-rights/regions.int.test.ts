/**
 * Region choice: once a patient record is assigned to a region, its new instances are stored in that
 * region's object store (dataRights.regions), earlier ones stay where they were; reads (WADO-RS) and
 * erasure follow each instance's key to the right store. Without regions nothing changes (the other
 * tests run with none).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { storescu } from '../../helpers/dcmtk.js';
import { authorizedFetch, TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../helpers/postgres.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { makeUID, writeInstanceFile } from '../../helpers/synthetic.js';
import { requireTool } from '../../helpers/tools.js';

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

if ((await requirePostgres(test)) && (await requireTool(test, 'storescu'))) {
  let db: TestDatabase;
  let lightbox: TestLightbox;
  let euDirectory: string;

  test.before(async () => {
    db = await createTestDatabase();
    const dataDirectory = await import('node:os').then((os) =>
      import('node:fs/promises').then((fs) =>
        fs.mkdtemp(path.join(os.tmpdir(), 'lightbox-regions-')),
      ),
    );
    euDirectory = path.join(dataDirectory, 'region-eu');
    lightbox = await startTestLightbox(
      {
        index: { kind: 'postgres', databaseUrl: db.url },
        viewerApi: { apiToken: TEST_API_TOKEN },
        dataRights: { regions: { eu: { kind: 'fs', directory: euDirectory } } },
      },
      { dataDirectory },
    );
  });
  test.after.always(async () => {
    await lightbox?.stop();
    await db?.drop();
  });

  test('new instances of an assigned record go to its region; reads and erasure follow', async (t) => {
    const inbox = path.join(lightbox.dataDirectory, 'in');
    await mkdir(inbox);
    const send = async (name: string) => {
      const file = path.join(inbox, name);
      await writeInstanceFile(file, {
        StudyInstanceUID: makeUID(),
        SeriesInstanceUID: makeUID(),
        PatientID: 'REGION-1',
      });
      t.is((await storescu(lightbox.gateway.port, [file])).code, 0);
      await lightbox.settled();
    };
    const mainObjects = path.join(lightbox.dataDirectory, 'objects');
    await send('before.dcm');
    t.is((await filesUnder(mainObjects)).length, 1);
    const { dataRights } = lightbox.services;
    const [row] = await dataRights.sql.query(`SELECT patient_key::text AS k FROM patient`);
    const patientKey = row.k as string;
    await t.throwsAsync(dataRights.assignRegion(patientKey, 'mars'), { message: 'no such region' });
    await dataRights.assignRegion(patientKey, 'eu');

    await send('after.dcm');
    t.is((await filesUnder(mainObjects)).length, 1, 'the earlier instance stays');
    const inRegion = await filesUnder(euDirectory);
    t.is(inRegion.length, 1, 'the new one is in the region');
    const [stored] = await dataRights.sql.query(
      `SELECT study_instance_uid, series_instance_uid, sop_instance_uid, object_key, sha256
       FROM instance WHERE object_key LIKE 'regions/eu/%'`,
    );
    t.truthy(stored);
    const bytes = await readFile(inRegion[0]);
    t.is(createHash('sha256').update(bytes).digest('hex'), String(stored.sha256));

    // WADO-RS reads it from the region's store.
    const response = await authorizedFetch(
      `${lightbox.viewerApi.url}/dicom-web/studies/${stored.study_instance_uid}/series/${stored.series_instance_uid}/instances/${stored.sop_instance_uid}`,
    );
    t.is(response.status, 200);
    t.true(Buffer.from(await response.arrayBuffer()).includes(bytes));

    const receipt = await dataRights.erase(patientKey, {
      principal: { kind: 'archive-reader' },
      via: 'cli',
    });
    t.is(receipt.counts.objects, 2);
    t.deepEqual(await filesUnder(mainObjects), []);
    t.deepEqual(await filesUnder(euDirectory), []);
  });
}
