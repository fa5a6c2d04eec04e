/**
 * The embedded default's durability: `bin/lightbox.ts` (what `npm start` runs) with nothing but
 * LIGHTBOX_DATA_DIR, killed with SIGKILL in the middle of an ingest, then started again on the same
 * directory. Its in-process queue is the spool itself: every instance acknowledged before the kill
 * must end up archived and indexed after the restart, and the spool must empty.
 *
 * The kill lands while a large instance is being received, after all those before it were
 * acknowledged: the crash cuts a reception (spool/incoming) and, usually, the archiving of the last
 * acknowledged instances (spool/ready, objects linked but not yet indexed).
 *
 * PGlite allows one owning process: the index is opened here only after Lightbox has stopped.
 */
import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createIndexStore } from '../../core/archive/create-index-store.js';
import { freePort } from '../helpers/dcmtk.js';
import {
  spawnLightbox,
  spawnStorescu,
  waitFor,
  waitForListening,
  type SpawnedProcess,
} from '../helpers/processes.js';
import { writeInstanceFile } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';
import { datasetOf, sha256, spoolEntries, withLargeInstance, writeStudy } from './archive.js';
import { seedPgliteDirectory } from '../helpers/pglite-template.js';

const COUNT = 200;

/** Files under a directory, recursively, as paths relative to it. */
async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(directory, path.join(e.parentPath, e.name)))
    .sort();
}

if (await requireTool(test, 'storescu')) {
  test('kill -9 mid-ingest, restart on the same data directory: every acknowledged instance is indexed, the spool empties', async (t) => {
    t.timeout(100_000);
    const work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-embedded-'));
    t.teardown(() => rm(work, { recursive: true, force: true }));
    const dataDirectory = path.join(work, 'data');
    await seedPgliteDirectory(path.join(dataDirectory, 'index'));
    const spool = path.join(dataDirectory, 'spool');
    const objects = path.join(dataDirectory, 'objects');
    const input = path.join(work, 'input');
    await mkdir(input);
    const env = {
      LIGHTBOX_DATA_DIR: dataDirectory,
      DICOM_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
    const dicomPort = Number(env.DICOM_PORT);
    const processes: SpawnedProcess[] = [];
    t.teardown(async () => {
      for (const p of processes) await p.kill9();
    });
    const start = async (name: string) => {
      const p = spawnLightbox('lightbox', env, name);
      processes.push(p);
      await waitForListening(p, dicomPort, 45_000);
      return p;
    };

    const study = await writeStudy(input, COUNT, 'emb');
    const killAfter = 20 + Math.floor(Math.random() * 150);
    const { files, large, largeUID } = await withLargeInstance(
      study,
      path.join(input, 'emb-large.dcm'),
      killAfter,
    );

    const first = await start('lightbox (first run)');
    const sender = spawnStorescu(dicomPort, files);
    t.teardown(() => sender.process.kill9().then(() => undefined));
    const receivingLarge = async () => {
      for (const name of await spoolEntries(spool, 'incoming')) {
        const info = await stat(path.join(spool, 'incoming', name)).catch(() => undefined);
        if (info && info.size > 1024 * 1024) return true;
      }
      return false;
    };
    await waitFor(
      `${killAfter} acknowledged and the large instance being received`,
      async () => sender.acknowledged().length >= killAfter && (await receivingLarge()),
      { timeoutMs: 40_000, intervalMs: 2, alive: [first] },
    );
    await first.kill9();
    await sender.done;

    const acknowledged = sender.acknowledged();
    const archivedAtKill = (await listFiles(objects)).length;
    const backlog = (await spoolEntries(spool, 'ready')).length;
    t.log(
      `killed after ${acknowledged.length} acknowledged (aimed at ${killAfter}):`,
      `${archivedAtKill} objects written, ${backlog} in spool/ready,`,
      `${(await spoolEntries(spool, 'incoming')).length} in spool/incoming`,
    );
    t.is(acknowledged.length, killAfter, 'everything before the large instance');

    const second = await start('lightbox (restart)');
    await waitFor(
      'the spool to empty',
      async () =>
        (await spoolEntries(spool, 'ready')).length === 0 &&
        (await spoolEntries(spool, 'incoming')).length === 0,
      { timeoutMs: 40_000, intervalMs: 100, alive: [second] },
    );
    const stopped = await second.stop(20_000);
    t.is(stopped.code, 0, `graceful stop:\n${second.output()}`);
    t.deepEqual(await spoolEntries(spool, 'failed'), [], 'nothing given up on');

    const index = await createIndexStore({
      kind: 'pglite',
      directory: path.join(dataDirectory, 'index'),
    });
    t.teardown(() => index.close());
    const byPath = new Map(study.map((i) => [i.path, i]));
    for (const file of acknowledged) {
      const instance = byPath.get(file)!;
      const row = await index.getInstance(instance.SOPInstanceUID);
      t.is(row?.state, 'stored', `${path.basename(file)} indexed`);
      if (!row) continue;
      const stored = await readFile(path.join(objects, row.objectKey));
      t.is(sha256(stored), row.sha256, 'the recorded SHA-256 is the object’s');
      t.true(datasetOf(stored).equals(datasetOf(await readFile(file))), 'the data set sent');
    }
    const [{ pending }] = await index.sql.query<{ pending: number }>(
      `SELECT count(*)::integer AS pending FROM instance WHERE state = 'pending'`,
    );
    t.is(pending, 0, 'no pending rows');
    const counts = await index.counts();
    t.is(counts.conflicts, 0);
    t.false(
      Boolean(await index.getInstance(largeUID)),
      'the instance being received at the kill was never acknowledged and is not indexed',
    );
    t.is(counts.instances, acknowledged.length, 'the acknowledged instances, once each');
    const expectedKeys = new Set<string>();
    for (const file of acknowledged) {
      const row = await index.getInstance(byPath.get(file)!.SOPInstanceUID);
      if (row) expectedKeys.add(row.objectKey);
    }
    // A process killed between link() and rename() leaves a temporary under .tmp/ (never at a
    // key); the object store removes those once they are an hour old.
    const stored = await listFiles(objects);
    const leftovers = stored.filter((key) => /^\.tmp\/[0-9a-f]{16}$/.test(key));
    if (leftovers.length > 0)
      t.log(`object store temporaries left by the kill: ${leftovers.join(', ')}`);
    const stray = stored.filter((key) => !expectedKeys.has(key) && !leftovers.includes(key));
    t.deepEqual(stray, [], 'one object per instance, nothing else in the object store');
    t.true(leftovers.length <= 1);
  });
}
