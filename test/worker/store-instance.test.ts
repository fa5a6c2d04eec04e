/**
 * storeInstance (one ingest job) on the embedded archive: spool, fs object store, PGlite index.
 */
import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createIndexStore } from '../../core/archive/create-index-store.js';
import { FsObjectStore } from '../../core/archive/fs-object-store.js';
import { readPart10Header } from '../../core/dicom/part10-header.js';
import type { IngestJob } from '../../core/queue/ingest-queue.js';
import { Spool } from '../../core/spool/spool.js';
import { storeInstance, type StoreInstanceDependencies } from '../../worker/store-instance.js';
import { seedPgliteDirectory } from '../helpers/pglite-template.js';
import { encodeInstance, makeUID } from '../helpers/synthetic.js';

async function archive(t: { teardown(fn: () => Promise<void>): void }) {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-store-instance-'));
  const spool = new Spool({ directory: path.join(directory, 'spool'), fsync: false });
  await spool.init();
  const objects = new FsObjectStore(path.join(directory, 'objects'));
  await objects.init();
  await seedPgliteDirectory(path.join(directory, 'index'));
  const index = await createIndexStore({
    kind: 'pglite',
    directory: path.join(directory, 'index'),
  });
  await index.migrate();
  t.teardown(async () => {
    await index.close();
    await objects.close();
    await spool.close();
    await rm(directory, { recursive: true, force: true });
  });
  const deps: StoreInstanceDependencies = { spool, objects, index, log: pino({ level: 'silent' }) };
  /** Receives `bytes` into ready/ as the gateway would, and returns the job it would queue. */
  const receive = async (bytes: Buffer): Promise<IngestJob> => {
    const writer = spool.open(bytes.length);
    writer.end(bytes);
    const spooled = await writer.commit();
    const { meta } = await readPart10Header(spool.readyPath(spooled.spoolName));
    return {
      ...spooled,
      SOPInstanceUID: meta.MediaStorageSOPInstanceUID,
      SOPClassUID: meta.MediaStorageSOPClassUID,
      TransferSyntaxUID: meta.TransferSyntaxUID,
      callingAETitle: 'MODALITY',
      receivedAt: new Date().toISOString(),
    };
  };
  return { spool, index, deps, receive };
}

test('the same bytes re-sent while kept aside as a conflict: archived, not failed', async (t) => {
  const { spool, index, deps, receive } = await archive(t);
  const uids = {
    StudyInstanceUID: makeUID(),
    SeriesInstanceUID: makeUID(),
    SOPInstanceUID: makeUID(),
  };
  const first = encodeInstance(uids);
  const other = encodeInstance(uids); // random pixel data: other bytes, same SOP Instance UID
  t.is(await storeInstance(await receive(first), deps), 'stored');
  const conflicting = await receive(other);
  // The re-send lands in ready/ under the same name while the first job for these bytes runs;
  // that job keeps them aside as a conflict and removes the entry both renamed into place.
  const resent = await receive(other);
  t.is(resent.spoolName, conflicting.spoolName);
  t.is(await storeInstance(conflicting, deps), 'conflict');
  t.deepEqual(await readdir(spool.readyDirectory), []);
  // The re-send's own job then finds its entry gone: its bytes are archived (as the conflict).
  t.is(await storeInstance(resent, deps), 'already-archived');
  t.like(await index.counts(), { instances: 1, conflicts: 1 });
});

test('an entry gone whose bytes are archived nowhere is still an error (NotFound), never success', async (t) => {
  const { deps, receive, spool } = await archive(t);
  const uids = {
    StudyInstanceUID: makeUID(),
    SeriesInstanceUID: makeUID(),
    SOPInstanceUID: makeUID(),
  };
  t.is(await storeInstance(await receive(encodeInstance(uids)), deps), 'stored');
  const lost = await receive(encodeInstance(uids));
  await spool.remove(lost.spoolName);
  const error = await t.throwsAsync(storeInstance(lost, deps));
  t.is((error as { code?: string }).code, 'NotFound');
});
