/**
 * BullMqIngestQueue against the IngestQueue contract on the real Redis (own key prefix for this
 * file, own queue name per test, keys deleted at the end), plus what only it does: re-running the
 * job of a worker killed with SIGKILL, and failing fast when Redis is unreachable.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { isLightboxError } from '../../../core/errors.js';
import { createLogger } from '../../../core/log.js';
import {
  BullMqIngestQueue,
  type BullMqIngestQueueOptions,
  type BullMqQueueConfig,
} from '../../../core/queue/bullmq-ingest-queue.js';
import { createIngestQueue } from '../../../core/queue/create-ingest-queue.js';
import type { IngestJob } from '../../../core/queue/ingest-queue.js';
import { Spool } from '../../../core/spool/spool.js';
import {
  countKeys,
  deleteKeys,
  requireRedis,
  TEST_REDIS_URL,
  testPrefix,
} from '../../helpers/redis.js';
import { ingestQueueContract, makeJob, until } from './ingest-queue.contract.js';

const log = createLogger({ level: 'silent' });
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const adapterPath = fileURLToPath(
  new URL('../../../core/queue/bullmq-ingest-queue.ts', import.meta.url),
);

function config(overrides: Partial<BullMqQueueConfig>): BullMqQueueConfig {
  return {
    kind: 'bullmq',
    redisUrl: TEST_REDIS_URL,
    prefix: 'lightbox',
    queueName: 'ingest',
    concurrency: 8,
    attempts: 3,
    backoffMs: 10,
    reconcileAfterMs: 120_000,
    ...overrides,
  };
}

// Awaited before any test is declared: ava starts running once the first declaration is made.
const redisAvailable = await requireRedis(test);

test('bullmq: enqueue with Redis unreachable rejects with StorageUnavailable, without hanging', async (t) => {
  // Port 1 is closed: the connection is refused at once. The bound is generous on purpose: this
  // checks that a C-STORE gets its 0xA700 instead of waiting forever, not how fast Redis fails.
  const queue = new BullMqIngestQueue({
    config: config({ redisUrl: 'redis://127.0.0.1:1', prefix: 'lbtest-unreachable' }),
    log,
  });
  t.teardown(() => queue.close());
  const started = Date.now();
  const first = await t.throwsAsync(queue.enqueue(makeJob()));
  t.true(isLightboxError(first, 'StorageUnavailable'));
  const second = await t.throwsAsync(queue.enqueue(makeJob()));
  t.true(isLightboxError(second, 'StorageUnavailable'));
  t.true(Date.now() - started < 10_000, 'enqueue must fail within seconds');
});

if (redisAvailable) {
  const prefix = testPrefix();
  let queues = 0;
  const nextQueueName = () => `ingest-${++queues}`;
  test.after.always(() => deleteKeys(prefix));

  ingestQueueContract(test, 'bullmq', async (t, { attempts, backoffMs }) => {
    const queue = createIngestQueue({
      config: config({ prefix, queueName: nextQueueName(), attempts, backoffMs }),
      spool: new Spool({ directory: '/nonexistent', fsync: false }), // BullMQ never touches it
      log,
    });
    t.teardown(() => queue.close());
    return queue;
  });

  test('bullmq: the job of a worker killed with SIGKILL mid-job is re-run by another worker', async (t) => {
    const queueName = nextQueueName();
    const options: BullMqIngestQueueOptions = {
      config: config({ prefix, queueName }),
      log,
      // Short lock and stalled check so the dead worker's job is noticed within seconds.
      lockDurationMs: 1_000,
      stalledIntervalMs: 500,
    };
    const job = makeJob();
    const producer = new BullMqIngestQueue(options);
    t.teardown(() => producer.close());
    await producer.enqueue(job);

    t.is(await takeAndDie(options), `taken ${job.spoolName} attempt 1`);

    const seen: { job: IngestJob; attempt: number }[] = [];
    await producer.process(
      async (received, attempt) => void seen.push({ job: received, attempt }),
      {
        concurrency: 1,
      },
    );
    await until(() => seen.length > 0);
    await producer.drained();
    t.deepEqual(seen, [{ job, attempt: 1 }]);
  });

  test('bullmq: a job that kills its worker twice fails for good; onFinalFailure once', async (t) => {
    const options: BullMqIngestQueueOptions = {
      config: config({ prefix, queueName: nextQueueName() }),
      log,
      lockDurationMs: 1_000,
      stalledIntervalMs: 500,
    };
    const job = makeJob();
    const producer = new BullMqIngestQueue(options);
    t.teardown(() => producer.close());
    await producer.enqueue(job);
    // BullMQ's maxStalledCount is 1: the second stall marks the job failed, without a third run.
    await takeAndDie(options);
    await takeAndDie(options);

    let runs = 0;
    const failures: { job: IngestJob; error: unknown }[] = [];
    await producer.process(async () => void runs++, {
      concurrency: 1,
      onFinalFailure: async (failed, error) => void failures.push({ job: failed, error }),
    });
    await until(() => failures.length > 0);
    await producer.drained();
    t.is(runs, 0);
    t.is(failures.length, 1);
    t.deepEqual(failures[0].job, job);
    t.regex((failures[0].error as Error).message, /stalled/);
  });

  test('bullmq: deleteKeys removes every key under a prefix', async (t) => {
    const ownPrefix = testPrefix();
    const queue = new BullMqIngestQueue({ config: config({ prefix: ownPrefix }), log });
    await queue.enqueue(makeJob());
    await queue.close();
    t.true((await countKeys(ownPrefix)) > 0);
    await deleteKeys(ownPrefix);
    t.is(await countKeys(ownPrefix), 0);
  });
}

/** Starts a worker in another process, waits until it has taken a job, and kills it (SIGKILL). */
async function takeAndDie(options: BullMqIngestQueueOptions): Promise<string> {
  const child = spawnHangingWorker(options);
  try {
    return await firstLine(child.stdout!);
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

/** A worker in another process whose handler reports the job on stdout, then never returns. */
function spawnHangingWorker(options: BullMqIngestQueueOptions) {
  const script = `
    const { BullMqIngestQueue } = await import(${JSON.stringify(adapterPath)});
    const { pino } = await import('pino');
    const options = JSON.parse(process.env.QUEUE_OPTIONS);
    const queue = new BullMqIngestQueue({ ...options, log: pino({ level: 'silent' }) });
    await queue.process(async (job, attempt) => {
      process.stdout.write('taken ' + job.spoolName + ' attempt ' + attempt + '\\n');
      await new Promise(() => {});
    }, { concurrency: 1 });
  `;
  const { log: _log, ...serialisable } = options;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, QUEUE_OPTIONS: JSON.stringify(serialisable) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    const end = text.indexOf('\n');
    if (end >= 0) return text.slice(0, end);
  }
  throw new Error(`stream ended before a line: ${text}`);
}
