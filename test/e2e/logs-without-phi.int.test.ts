/**
 * Logs carry no patient data: a full ingest (C-ECHO, C-STORE accepted and refused, conflict) logged at
 * trace level must not contain the patient's name or ID, nor any of the instance's UIDs.
 */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { captureLog } from '../helpers/log-capture.js';
import { echoscu, storescu } from '../helpers/dcmtk.js';
import { startTestLightbox } from '../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';

if (await requireTool(test, 'storescu')) {
  test('an ingest logged at trace level names no patient and no UID', async (t) => {
    const { log, lines } = captureLog();
    const lightbox = await startTestLightbox({}, { log });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lightbox-phi-'));
    t.teardown(async () => {
      await lightbox.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const secrets = {
      PatientName: 'Doe^Jane',
      PatientID: 'PID-7731-SECRET',
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
      SOPInstanceUID: makeUID(),
    };
    const good = path.join(dir, 'good.dcm');
    const other = path.join(dir, 'other-bytes.dcm');
    const bad = path.join(dir, 'bad.dcm');
    await writeFile(good, encodeInstance(secrets));
    await writeFile(other, encodeInstance(secrets));
    await writeFile(
      bad,
      encodeInstance({ ...secrets, SOPInstanceUID: makeUID(), StudyInstanceUID: '1.02' }),
    );
    t.is((await echoscu(lightbox.gateway.port)).code, 0);
    await storescu(lightbox.gateway.port, [good, bad, other], { extra: ['--no-halt'] });
    await lightbox.settled();
    t.like(await lightbox.services.index.counts(), { instances: 1, conflicts: 1 });

    const text = lines.join('');
    t.true(lines.length > 5, 'something was logged');
    for (const [keyword, value] of Object.entries(secrets)) {
      t.false(text.includes(value), `${keyword} appears in the logs`);
    }
    t.false(text.includes('Doe'), 'no part of the patient name');
  });
}
