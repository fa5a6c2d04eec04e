/**
 * An erased study re-sent with storescu is not resurrected: the C-STORE is acknowledged (Success,
 * the instance was durable in the spool when answered), then the worker discards it — nothing in the
 * spool, the object store or the index — and counts the discard. A new study of the same patient is
 * archived as usual.
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { storescu } from '../../helpers/dcmtk.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { makeUID, writeInstanceFile } from '../../helpers/synthetic.js';
import { requireTool } from '../../helpers/tools.js';

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

if (await requireTool(test, 'storescu')) {
  let lightbox: TestLightbox;
  test.before(async () => {
    lightbox = await startTestLightbox();
  });
  test.after.always(() => lightbox?.stop());

  test('a re-sent erased study is acknowledged, then discarded and counted', async (t) => {
    const inbox = path.join(lightbox.dataDirectory, 'in');
    await mkdir(inbox);
    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const file = path.join(inbox, `${i}.dcm`);
      await writeInstanceFile(file, { StudyInstanceUID, SeriesInstanceUID, PatientID: 'RESEND' });
      files.push(file);
    }
    const port = lightbox.gateway.port;
    t.is((await storescu(port, files)).code, 0);
    await lightbox.settled();
    const { index, dataRights, spool } = lightbox.services;
    t.is((await index.counts()).instances, 3);
    const [row] = await dataRights.sql.query(`SELECT patient_key::text AS k FROM patient`);
    const receipt = await dataRights.erase(row.k as string, {
      principal: { kind: 'archive-reader' },
      via: 'cli',
    });
    t.is(receipt.counts.instances, 3);
    const objectsDir = path.join(lightbox.dataDirectory, 'objects');
    t.deepEqual(await filesUnder(objectsDir), []);

    const resend = await storescu(port, files);
    t.is(resend.code, 0);
    t.is((resend.stdout + resend.stderr).match(/Received Store Response \(Success\)/g)?.length, 3);
    await lightbox.settled();
    t.like(await index.counts(), { patients: 0, studies: 0, instances: 0 });
    t.deepEqual(await filesUnder(objectsDir), []);
    t.deepEqual(await spool.listReady(), []);
    t.deepEqual(await spool.listFailed(), []);
    t.is(await dataRights.tombstones.discardedCount(dataRights.sql), 3);

    // A new study of the same patient is archived.
    const fresh = path.join(inbox, 'fresh.dcm');
    await writeInstanceFile(fresh, {
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
      PatientID: 'RESEND',
    });
    t.is((await storescu(port, [fresh])).code, 0);
    await lightbox.settled();
    t.like(await index.counts(), { patients: 1, studies: 1, instances: 1 });
  });
}
