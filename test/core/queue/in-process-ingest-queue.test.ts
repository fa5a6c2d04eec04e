/**
 * InProcessIngestQueue against the IngestQueue contract, plus what only it does: rebuilding the
 * queue from the spool's ready/ directory after a restart. A temporary spool per test; no service
 * needed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { encodeFileMetaInformation } from '../../../core/dicom/part10-meta.js';
import { createLogger } from '../../../core/log.js';
import { createIngestQueue } from '../../../core/queue/create-ingest-queue.js';
import { InProcessIngestQueue } from '../../../core/queue/in-process-ingest-queue.js';
import type { IngestJob } from '../../../core/queue/ingest-queue.js';
import { Spool } from '../../../core/spool/spool.js';
import { CTImageStorage, ExplicitVRLittleEndian, makeUID } from '../../helpers/synthetic.js';
import { ingestQueueContract, makeJob } from './ingest-queue.contract.js';

const log = createLogger({ level: 'silent' });

async function tempSpool(t: ExecutionContext<unknown>): Promise<Spool> {
  const directory = await mkdtemp(path.join(tmpdir(), 'lightbox-queue-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const spool = new Spool({ directory, fsync: false });
  await spool.init();
  return spool;
}

ingestQueueContract(test, 'in-process', async (t, { attempts, backoffMs }) => {
  const spool = await tempSpool(t);
  const queue = createIngestQueue({
    config: { kind: 'in-process', concurrency: 4, attempts, backoffMs },
    spool,
    log,
  });
  t.teardown(() => queue.close());
  return queue;
});

/**
 * Commits a small Part 10 file (meta group + one data set element) through the spool's own path.
 */
async function spoolInstance(spool: Spool, mtimeSeconds: number): Promise<IngestJob> {
  const SOPInstanceUID = makeUID();
  const meta = encodeFileMetaInformation({
    MediaStorageSOPClassUID: CTImageStorage,
    MediaStorageSOPInstanceUID: SOPInstanceUID,
    TransferSyntaxUID: ExplicitVRLittleEndian,
    SourceApplicationEntityTitle: 'MODALITY',
  });
  // (0008,0060) Modality CS "CT", explicit VR little endian.
  const dataset = Buffer.from([0x08, 0x00, 0x60, 0x00, 0x43, 0x53, 0x02, 0x00, 0x43, 0x54]);
  const writer = spool.open(1024 * 1024);
  writer.end(Buffer.concat([meta, dataset]));
  const { spoolName, sha256, size } = await writer.commit();
  const mtime = new Date(mtimeSeconds * 1000);
  await utimes(spool.readyPath(spoolName), mtime, mtime);
  return {
    spoolName,
    sha256,
    size,
    SOPInstanceUID,
    SOPClassUID: CTImageStorage,
    TransferSyntaxUID: ExplicitVRLittleEndian,
    callingAETitle: 'MODALITY',
    receivedAt: mtime.toISOString(),
  };
}

function newQueue(spool: Spool): InProcessIngestQueue {
  return new InProcessIngestQueue({ spool, log, attempts: 3, backoffMs: 10 });
}

test('in-process: after a restart, process() picks up ready/ entries in mtime order', async (t) => {
  const spool = await tempSpool(t);
  const now = Math.floor(Date.now() / 1000);
  // Written in one order, aged in another: the queue must follow the files' times.
  const third = await spoolInstance(spool, now - 10);
  const first = await spoolInstance(spool, now - 30);
  const second = await spoolInstance(spool, now - 20);

  const queue = newQueue(spool);
  t.teardown(() => queue.close());
  const seen: IngestJob[] = [];
  await queue.process(
    async (job) => {
      seen.push(job);
      await spool.remove(job.spoolName);
    },
    { concurrency: 1 },
  );
  await queue.drained();
  t.deepEqual(seen, [first, second, third]);
  t.deepEqual(await spool.listReady(), []);
});

test('in-process: an entry both enqueued and found in ready/ runs once', async (t) => {
  const spool = await tempSpool(t);
  const now = Math.floor(Date.now() / 1000);
  const older = await spoolInstance(spool, now - 20);
  const newer = await spoolInstance(spool, now - 10);

  const queue = newQueue(spool);
  t.teardown(() => queue.close());
  await queue.enqueue(newer); // the gateway, already up, got there before the rebuild
  const seen: string[] = [];
  await queue.process(async (job) => void seen.push(job.spoolName), { concurrency: 2 });
  await queue.drained();
  t.deepEqual([...seen].sort(), [older.spoolName, newer.spoolName].sort());
});

test('in-process: a job left by a queue that was closed mid-retry runs again after restart', async (t) => {
  const spool = await tempSpool(t);
  const job = await spoolInstance(spool, Math.floor(Date.now() / 1000));
  const before = new InProcessIngestQueue({ spool, log, attempts: 3, backoffMs: 60_000 });
  let failedOnce = false;
  await before.process(
    async () => {
      failedOnce = true;
      throw new Error('object store down');
    },
    { concurrency: 1 },
  );
  while (!failedOnce) await new Promise((resolve) => setTimeout(resolve, 10));
  await before.close();

  const after = newQueue(spool);
  t.teardown(() => after.close());
  const seen: IngestJob[] = [];
  await after.process(async (received) => void seen.push(received), { concurrency: 1 });
  await after.drained();
  t.deepEqual(seen, [job]);
});

test('in-process: a ready/ entry whose meta group cannot be read is quarantined', async (t) => {
  const spool = await tempSpool(t);
  const garbage = randomBytes(300);
  const spoolName = `${createHash('sha256').update(garbage).digest('hex')}.dcm`;
  await writeFile(spool.readyPath(spoolName), garbage);
  const good = await spoolInstance(spool, Math.floor(Date.now() / 1000));

  const queue = newQueue(spool);
  t.teardown(() => queue.close());
  const seen: string[] = [];
  await queue.process(async (job) => void seen.push(job.spoolName), { concurrency: 1 });
  await queue.drained();
  t.deepEqual(seen, [good.spoolName]);
  t.deepEqual(await spool.listFailed(), [spoolName]);
});

test('in-process: close() cancels a pending retry without reporting a final failure', async (t) => {
  const spool = await tempSpool(t);
  const queue = new InProcessIngestQueue({ spool, log, attempts: 5, backoffMs: 60_000 });
  let runs = 0;
  let finalFailures = 0;
  await queue.enqueue(makeJob());
  await queue.process(
    async () => {
      runs++;
      throw new Error('transient');
    },
    { concurrency: 1, onFinalFailure: async () => void finalFailures++ },
  );
  while (runs === 0 || (await queue.depth()) !== 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await queue.close();
  t.is(runs, 1);
  t.is(finalFailures, 0);
  t.is(await queue.depth(), 0);
});
