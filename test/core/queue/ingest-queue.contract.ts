/**
 * The IngestQueue contract, run against every adapter (BullMQ on Redis and the in-process queue
 * over the spool), as BullMQ's adapter-conformance tests do. Each test builds its own, empty queue.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext, TestFn } from 'ava';
import { isLightboxError, LightboxError } from '../../../core/errors.js';
import type { IngestJob, IngestQueue } from '../../../core/queue/ingest-queue.js';
import { CTImageStorage, ExplicitVRLittleEndian, makeUID } from '../../helpers/synthetic.js';

export interface QueueSettings {
  attempts: number;
  backoffMs: number;
}

/** Builds a fresh, empty queue and registers its own teardown (close, temp files, keys) on `t`. */
export type MakeQueue = (
  t: ExecutionContext<unknown>,
  settings: QueueSettings,
) => Promise<IngestQueue>;

/** An IngestJob for a spool file that need not exist: the queue never opens it. */
export function makeJob(): IngestJob {
  const sha256 = createHash('sha256').update(randomBytes(32)).digest('hex');
  return {
    spoolName: `${sha256}.dcm`,
    sha256,
    size: 1234,
    SOPInstanceUID: makeUID(),
    SOPClassUID: CTImageStorage,
    TransferSyntaxUID: ExplicitVRLittleEndian,
    callingAETitle: 'MODALITY',
    receivedAt: new Date().toISOString(),
  };
}

/**
 * Polls `condition` every 10 ms; fails after `ms` (a guard against hanging, not a timing claim).
 */
export async function until(condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const defaults: QueueSettings = { attempts: 3, backoffMs: 10 };

export function ingestQueueContract(test: TestFn<unknown>, adapter: string, make: MakeQueue): void {
  test(`${adapter}: the handler receives the exact job, attempt 1`, async (t) => {
    const queue = await make(t, defaults);
    const job = makeJob();
    const seen: { job: IngestJob; attempt: number }[] = [];
    await queue.enqueue(job);
    await queue.process(async (received, attempt) => void seen.push({ job: received, attempt }), {
      concurrency: 1,
    });
    await queue.drained();
    t.deepEqual(seen, [{ job, attempt: 1 }]);
  });

  test(`${adapter}: a duplicate enqueue while pending runs the handler once`, async (t) => {
    const queue = await make(t, defaults);
    const job = makeJob();
    await queue.enqueue(job);
    await queue.enqueue({ ...job });
    t.is(await queue.depth(), 1);
    let runs = 0;
    await queue.process(async () => void runs++, { concurrency: 4 });
    await queue.drained();
    t.is(runs, 1);
  });

  test(`${adapter}: a transient error is retried with the attempt number, then succeeds`, async (t) => {
    const queue = await make(t, { attempts: 5, backoffMs: 10 });
    const attempts: number[] = [];
    let finalFailures = 0;
    await queue.enqueue(makeJob());
    await queue.process(
      async (_job, attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new LightboxError('StorageUnavailable', 'object store down');
      },
      { concurrency: 1, onFinalFailure: async () => void finalFailures++ },
    );
    await queue.drained();
    t.deepEqual(attempts, [1, 2, 3]);
    t.is(finalFailures, 0);
  });

  test(`${adapter}: a permanent error is not retried; onFinalFailure once`, async (t) => {
    const queue = await make(t, { attempts: 5, backoffMs: 10 });
    const job = makeJob();
    const failures: { job: IngestJob; error: unknown }[] = [];
    let runs = 0;
    await queue.enqueue(job);
    await queue.process(
      async () => {
        runs++;
        throw new LightboxError('InvalidDataset', 'no SOPInstanceUID');
      },
      {
        concurrency: 1,
        onFinalFailure: async (failed, error) => void failures.push({ job: failed, error }),
      },
    );
    await queue.drained();
    await sleep(100); // a late second report would land here
    t.is(runs, 1);
    t.is(failures.length, 1);
    t.deepEqual(failures[0].job, job);
    t.true(isLightboxError(failures[0].error, 'InvalidDataset'));
  });

  test(`${adapter}: attempts exhausted → onFinalFailure once, with the last error`, async (t) => {
    const queue = await make(t, { attempts: 3, backoffMs: 5 });
    const failing = makeJob();
    const passing = makeJob();
    const attempts: number[] = [];
    const failures: { job: IngestJob; error: unknown }[] = [];
    await queue.enqueue(failing);
    await queue.enqueue(passing);
    await queue.process(
      async (job, attempt) => {
        if (job.sha256 !== failing.sha256) return;
        attempts.push(attempt);
        throw new Error(`boom ${attempt}`);
      },
      { concurrency: 2, onFinalFailure: async (job, error) => void failures.push({ job, error }) },
    );
    await queue.drained();
    await sleep(100);
    t.deepEqual(attempts, [1, 2, 3]);
    t.is(failures.length, 1);
    t.deepEqual(failures[0].job, failing);
    t.is((failures[0].error as Error).message, 'boom 3');
  });

  test(`${adapter}: no more than concurrency handlers at once`, async (t) => {
    const queue = await make(t, defaults);
    for (let i = 0; i < 8; i++) await queue.enqueue(makeJob());
    const release = gate();
    let active = 0;
    let maxActive = 0;
    let done = 0;
    await queue.process(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await release.wait;
        active--;
        done++;
      },
      { concurrency: 3 },
    );
    await until(() => active === 3);
    await sleep(300); // a fourth handler, if the limit leaked, would start here
    t.is(maxActive, 3);
    release.open();
    await queue.drained();
    t.is(done, 8);
    t.is(maxActive, 3);
  });

  test(`${adapter}: depth() counts waiting and active jobs; drained() waits for 0`, async (t) => {
    const queue = await make(t, defaults);
    t.is(await queue.depth(), 0);
    for (let i = 0; i < 3; i++) await queue.enqueue(makeJob());
    t.is(await queue.depth(), 3);
    const release = gate();
    let started = 0;
    await queue.process(
      async () => {
        started++;
        await release.wait;
      },
      { concurrency: 1 },
    );
    await until(() => started === 1);
    t.is(await queue.depth(), 3);
    let drained = false;
    const draining = queue.drained().then(() => (drained = true));
    await sleep(100);
    t.false(drained);
    release.open();
    await draining;
    t.is(await queue.depth(), 0);
  });

  test(`${adapter}: close() waits for the active handler`, async (t) => {
    const queue = await make(t, defaults);
    const started = gate();
    let finished = false;
    await queue.enqueue(makeJob());
    await queue.process(
      async () => {
        started.open();
        await sleep(300);
        finished = true;
      },
      { concurrency: 1 },
    );
    await started.wait;
    await queue.close();
    t.true(finished);
  });

  test(`${adapter}: enqueue after close() rejects with StorageUnavailable`, async (t) => {
    const queue = await make(t, defaults);
    await queue.close();
    const error = await t.throwsAsync(queue.enqueue(makeJob()));
    t.true(isLightboxError(error, 'StorageUnavailable'));
  });
}
