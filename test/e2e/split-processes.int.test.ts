/**
 * Services mode as production runs it: `gateway/main.ts`, `worker/main.ts` and `viewer-api/main.ts`
 * as separate processes, configured by environment only, sharing a spool directory, on the real
 * Redis and PostgreSQL and on S3 (s3rver, in this test process). Then the crash tests: the worker,
 * and then the gateway, killed with SIGKILL in the middle of an ingest, and what survives.
 *
 * What "nothing is lost" means here: every instance storescu got Success for ends up stored and
 * indexed exactly once (one row, state 'stored', the SHA-256 recorded is that of the S3 object, whose
 * data set is the one sent), nothing stays pending in the index, nothing stays in spool/ready.
 *
 * Time: a killed worker's active jobs hold BullMQ locks for lockDuration (60 s in worker/main.ts,
 * not configurable) and are noticed by the next stalled check (every 30 s). The worker test
 * compresses that wait: after the kill it expires the dead worker's locks and marks its jobs as
 * stalled, exactly what the passage of lockDuration and one stalled check would do, so that the
 * restarted worker's first stalled check re-queues them. Set LIGHTBOX_TEST_REAL_STALL=1 to wait the
 * real time instead (about 2 minutes).
 *
 * Instances are small (≈ 8.5 KB): s3rver rejects the minio client's multipart uploads.
 */
import test, { type ExecutionContext } from 'ava';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client as MinioClient } from 'minio';
import { ObjectsConfig } from '../../config/schema.js';
import { createObjectStore } from '../../core/archive/create-object-store.js';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { freePort, storescu } from '../helpers/dcmtk.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../helpers/postgres.js';
import {
  spawnLightbox,
  spawnStorescu,
  waitFor,
  waitForListening,
  type SpawnedProcess,
} from '../helpers/processes.js';
import { deleteKeys, requireRedis, testPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { writeInstanceFile } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';
import {
  datasetOf,
  instanceRows,
  listS3Keys,
  pgQuery,
  readS3Object,
  s3Client,
  sha256,
  spoolEntries,
  storedCount,
  withLargeInstance,
  writeStudy,
  type InstanceRow,
  type SentInstance,
} from './archive.js';

const BUCKET = 'lightbox-split';
const QUEUE = 'ingest'; // config/schema.ts default queue.queueName
const REAL_STALL = process.env.LIGHTBOX_TEST_REAL_STALL === '1';

interface Context {
  work: string;
  spool: string;
  db: TestDatabase;
  s3: S3rverHandle;
  minio: MinioClient;
  prefix: string;
  dicomPort: number;
  httpPort: number;
  gateway: SpawnedProcess;
  worker: SpawnedProcess;
  viewerApi: SpawnedProcess;
  /** Every instance acknowledged so far, by SOPInstanceUID. */
  acknowledged: Map<string, SentInstance>;
}

const ctx = {} as Context;

function environment(): Record<string, string> {
  return {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: ctx.prefix,
    DATABASE_URL: ctx.db.url,
    S3_ENDPOINT: ctx.s3.endPoint,
    S3_PORT: String(ctx.s3.port),
    S3_USE_SSL: 'false',
    S3_ACCESS_KEY: ctx.s3.accessKey,
    S3_SECRET_KEY: ctx.s3.secretKey,
    S3_BUCKET: BUCKET,
    SPOOL_DIR: ctx.spool,
    DICOM_PORT: String(ctx.dicomPort),
    HTTP_PORT: String(ctx.httpPort),
    LOG_LEVEL: 'warn',
  };
}

async function startGatewayProcess(): Promise<SpawnedProcess> {
  const gateway = spawnLightbox('gateway', environment());
  await waitForListening(gateway, ctx.dicomPort);
  return gateway;
}

function startWorkerProcess(): SpawnedProcess {
  return spawnLightbox('worker', environment());
}

/** Workers (processes) consuming the queue, as BullMQ sees them in Redis. */
async function workerCount(): Promise<number> {
  const queue = new Queue(QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: ctx.prefix });
  try {
    return await queue.getWorkersCount();
  } finally {
    await queue.close();
  }
}

async function jobCounts(): Promise<Record<string, number>> {
  const queue = new Queue(QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: ctx.prefix });
  try {
    return await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
  } finally {
    await queue.close();
  }
}

/** Waits (bounded) until `count` instances are stored and no job waits or runs. */
async function drained(count: number, timeoutMs: number, alive: SpawnedProcess[]): Promise<void> {
  await waitFor(
    `${count} instances stored and the queue empty`,
    async () => {
      if ((await storedCount(ctx.db.url)) !== count) return false;
      const c = await jobCounts();
      return c.waiting + c.active + c.delayed + c.prioritized === 0;
    },
    { timeoutMs, intervalMs: 250, alive },
  );
}

/**
 * The archive holds every acknowledged instance exactly once, byte for byte, and nothing else is
 * half done: no pending row, no conflict, one S3 object per row, nothing left in ready/ or failed/.
 */
async function assertArchiveComplete(
  t: ExecutionContext,
  sent: Map<string, SentInstance>,
  options: { readyAllowed?: string[] } = {},
) {
  const rows = await instanceRows(ctx.db.url);
  const byUID = new Map<string, InstanceRow>(rows.map((r) => [r.sop_instance_uid, r]));
  t.deepEqual(
    rows.filter((r) => r.state !== 'stored').map((r) => r.sop_instance_uid),
    [],
    'no pending rows',
  );
  for (const [uid] of ctx.acknowledged) t.true(byUID.has(uid), `acknowledged ${uid} is indexed`);
  t.is(new Set(rows.map((r) => r.sop_instance_uid)).size, rows.length, 'one row per instance');
  const [{ conflicts }] = await pgQuery<{ conflicts: number }>(
    ctx.db.url,
    'SELECT count(*)::integer AS conflicts FROM instance_conflict',
  );
  t.is(conflicts, 0, 'a re-run job never records its own bytes as a conflict');
  t.deepEqual(
    await listS3Keys(ctx.minio, BUCKET),
    rows.map((r) => r.object_key).sort(),
    'exactly one S3 object per indexed instance',
  );
  // Every indexed instance (acknowledged or not) is complete: its S3 object is the data set sent.
  let checked = 0;
  for (const row of rows) {
    const instance = sent.get(row.sop_instance_uid);
    if (!instance) continue;
    const stored = await readS3Object(ctx.minio, BUCKET, row.object_key);
    t.is(sha256(stored), row.sha256, `${row.sop_instance_uid}: recorded SHA-256 is the object's`);
    t.is(stored.length, Number(row.size));
    const original = datasetOf(await readFile(instance.path));
    t.true(datasetOf(stored).equals(original), `${row.sop_instance_uid}: the data set sent`);
    checked++;
  }
  const acknowledgedHere = [...sent.keys()].filter((uid) => ctx.acknowledged.has(uid)).length;
  t.true(checked >= acknowledgedHere, `${checked} objects compared with what was sent`);
  t.deepEqual(
    await spoolEntries(ctx.spool, 'ready'),
    options.readyAllowed ?? [],
    'nothing left in spool/ready',
  );
  t.deepEqual(await spoolEntries(ctx.spool, 'failed'), [], 'nothing given up on');
  t.is((await jobCounts()).failed, 0, 'no failed job');
}

/**
 * What lockDuration (60 s) and one stalled check (30 s) would do after a worker dies: its locks
 * expire, and a stalled check marks its active jobs as candidates. BullMQ 6's keys:
 * `<prefix>:<queue>:active|stalled|stalled-check` and `<prefix>:<queue>:<jobId>:lock`.
 */
async function expireDeadWorkerLocks(): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const key = (suffix: string) => `${ctx.prefix}:${QUEUE}:${suffix}`;
    const active = await redis.lrange(key('active'), 0, -1);
    for (const id of active) await redis.del(key(`${id}:lock`));
    if (active.length > 0) await redis.sadd(key('stalled'), ...active);
    await redis.del(key('stalled-check'));
    return active.length;
  } finally {
    redis.disconnect();
  }
}

if (
  (await requireTool(test, 'storescu')) &&
  (await requireRedis(test)) &&
  (await requirePostgres(test))
) {
  test.before(async () => {
    ctx.work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-split-'));
    ctx.spool = path.join(ctx.work, 'spool');
    ctx.db = await createTestDatabase();
    ctx.s3 = await startS3rver();
    ctx.minio = s3Client(ctx.s3);
    ctx.prefix = testPrefix();
    ctx.dicomPort = await freePort();
    ctx.httpPort = await freePort();
    ctx.acknowledged = new Map();
    // The worker first, until it has made the bucket and migrated the index: viewer-api started
    // at the same moment would race it for the bucket (covered by its own test below).
    ctx.worker = startWorkerProcess();
    await waitFor(
      'the worker to create the bucket and migrate the index',
      async () =>
        (await ctx.minio.bucketExists(BUCKET).catch(() => false)) &&
        (await storedCount(ctx.db.url)) !== undefined,
      { timeoutMs: 30_000, intervalMs: 100, alive: [ctx.worker] },
    );
    ctx.viewerApi = spawnLightbox('viewer-api', environment());
    ctx.gateway = await startGatewayProcess();
    await waitForListening(ctx.viewerApi, ctx.httpPort);
  });

  test.after.always(async () => {
    await Promise.all([ctx.gateway, ctx.worker, ctx.viewerApi].map((p) => p?.stop(5_000)));
    await ctx.s3?.close();
    await ctx.db?.drop();
    if (ctx.prefix) await deleteKeys(ctx.prefix);
    if (ctx.work) await rm(ctx.work, { recursive: true, force: true });
  });

  test.serial(
    'three processes: viewer-api answers /healthz and /readyz; 50 instances all indexed',
    async (t) => {
      const health = await fetch(`http://127.0.0.1:${ctx.httpPort}/healthz`);
      t.is(health.status, 200);
      t.deepEqual(await health.json(), { status: 'ok' });

      const dir = path.join(ctx.work, 'first');
      await mkdir(dir);
      const study = await writeStudy(dir, 50, 'first');
      const sent = await storescu(
        ctx.dicomPort,
        study.map((i) => i.path),
      );
      t.is(sent.code, 0, sent.stderr);
      t.is((sent.stdout + sent.stderr).match(/Received Store Response \(Success\)/g)?.length, 50);
      for (const i of study) ctx.acknowledged.set(i.SOPInstanceUID, i);

      await drained(50, 30_000, [ctx.gateway, ctx.worker]);
      const ready = await fetch(`http://127.0.0.1:${ctx.httpPort}/readyz`);
      t.is(ready.status, 200);
      t.deepEqual(await ready.json(), {
        status: 'ready',
        checks: { index: 'ok', objects: 'ok' },
      });
      await assertArchiveComplete(t, new Map(study.map((i) => [i.SOPInstanceUID, i])));
    },
  );

  test.serial(
    'kill -9 the worker mid-ingest of 300 instances: after a restart every acknowledged instance is stored exactly once',
    async (t) => {
      t.timeout(REAL_STALL ? 200_000 : 90_000);
      const before = ctx.acknowledged.size;
      const dir = path.join(ctx.work, 'worker-kill');
      await mkdir(dir);
      const study = await writeStudy(dir, 300, 'wk');
      const byUID = new Map(study.map((i) => [i.SOPInstanceUID, i]));

      // The worker falls behind the gateway, as it does under load: it is paused (SIGSTOP) until
      // a backlog of 150 instances is queued, so that when it is killed it holds jobs mid-flight.
      ctx.worker.child.kill('SIGSTOP');
      const sender = spawnStorescu(
        ctx.dicomPort,
        study.map((i) => i.path),
      );
      t.teardown(() => sender.process.kill9().then(() => undefined));
      await waitFor('a backlog of 150', () => sender.acknowledged().length >= 150, {
        timeoutMs: 30_000,
        intervalMs: 10,
        alive: [ctx.gateway],
      });
      ctx.worker.child.kill('SIGCONT');
      // A random point after some of this batch are indexed, well inside the backlog (so that
      // the worker is busy with queued jobs when it dies).
      const killAt = before + 10 + Math.floor(Math.random() * 100);
      await waitFor(
        `${killAt} instances stored`,
        async () => ((await storedCount(ctx.db.url)) ?? 0) >= killAt,
        { timeoutMs: 40_000, intervalMs: 10, alive: [ctx.worker] },
      );
      await ctx.worker.kill9();
      const storedAtKill = (await storedCount(ctx.db.url)) ?? 0;
      const [{ pending }] = await pgQuery<{ pending: number }>(
        ctx.db.url,
        `SELECT count(*)::integer AS pending FROM instance WHERE state = 'pending'`,
      );
      const heldByDeadWorker = (await jobCounts()).active;
      t.log(
        `worker killed with ${storedAtKill - before} of 300 stored (aimed at ${killAt - before}),`,
        `${heldByDeadWorker} jobs active, ${pending} index rows pending`,
      );
      t.true(storedAtKill < before + 300, 'killed before the batch was archived');
      t.true(heldByDeadWorker > 0, 'killed while it held jobs');

      const result = await sender.done;
      t.is(result.code, 0, 'the gateway keeps acknowledging while no worker runs');
      const acked = sender.acknowledged();
      t.is(acked.length, 300);
      for (const file of acked) {
        const instance = study.find((i) => i.path === file)!;
        ctx.acknowledged.set(instance.SOPInstanceUID, instance);
      }

      if (!REAL_STALL) t.is(await expireDeadWorkerLocks(), heldByDeadWorker);
      ctx.worker = startWorkerProcess();
      await drained(before + 300, REAL_STALL ? 180_000 : 60_000, [ctx.gateway, ctx.worker]);
      await assertArchiveComplete(t, byUID);
      const rows = await instanceRows(ctx.db.url);
      t.is(rows.length, ctx.acknowledged.size, 'exactly the acknowledged instances, once each');
    },
  );

  test.serial(
    'kill -9 the gateway mid-association: what was acknowledged is archived, nothing half-written is indexed, the next start sweeps incoming/',
    async (t) => {
      t.timeout(90_000);
      const before = ctx.acknowledged.size;
      const dir = path.join(ctx.work, 'gateway-kill');
      await mkdir(dir);
      const study = await writeStudy(dir, 300, 'gk');
      const byUID = new Map(study.map((i) => [i.SOPInstanceUID, i]));

      // At a random position, one large instance (16 MiB): the gateway is killed while it is
      // receiving it, after everything before it was acknowledged.
      const killAfter = 10 + Math.floor(Math.random() * 200);
      const { files, large, largeUID } = await withLargeInstance(
        study,
        path.join(dir, 'gk-large.dcm'),
        killAfter,
      );
      const sender = spawnStorescu(ctx.dicomPort, files);
      t.teardown(() => sender.process.kill9().then(() => undefined));
      const incomingPart = async () => {
        for (const name of await spoolEntries(ctx.spool, 'incoming')) {
          const info = await stat(path.join(ctx.spool, 'incoming', name)).catch(() => undefined);
          if (info && info.size > 1024 * 1024) return true;
        }
        return false;
      };
      await waitFor(
        `${killAfter} acknowledged and the large one being received`,
        async () => sender.acknowledged().length >= killAfter && (await incomingPart()),
        { timeoutMs: 40_000, intervalMs: 2, alive: [ctx.gateway] },
      );
      await ctx.gateway.kill9();
      const result = await sender.done;
      t.not(result.code, 0, 'storescu fails: its association was cut');
      const acked = sender.acknowledged().map((file) => study.find((i) => i.path === file)!);
      t.log(`gateway killed after ${acked.length} of 300 acknowledged (aimed at ${killAfter})`);
      t.is(acked.length, killAfter, 'everything before the large instance, nothing after');
      for (const i of acked) ctx.acknowledged.set(i.SOPInstanceUID, i);

      // The worker archives whatever was queued: at least everything acknowledged. One more
      // instance may have been queued whose response the gateway died before sending.
      await waitFor(
        'the acknowledged instances archived',
        async () => {
          const stored = (await storedCount(ctx.db.url)) ?? 0;
          const c = await jobCounts();
          return stored >= before + acked.length && c.waiting + c.active + c.delayed === 0;
        },
        { timeoutMs: 40_000, intervalMs: 250, alive: [ctx.worker] },
      );
      const rows = await instanceRows(ctx.db.url);
      const fromBatch = rows.filter((r) => byUID.has(r.sop_instance_uid));
      t.true(fromBatch.length - acked.length <= 1, 'at most the one instance in flight besides');
      t.false(
        rows.some((r) => r.sop_instance_uid === largeUID),
        'the instance cut short is not indexed',
      );

      // A reception cut short stays in incoming/ (never acknowledged, never queued) until the next
      // gateway start sweeps it; a file renamed to ready/ just before the kill, but not queued, was
      // never acknowledged either: the worker's reconciliation would queue it after 120 s.
      const incoming = await spoolEntries(ctx.spool, 'incoming');
      const ready = await spoolEntries(ctx.spool, 'ready');
      t.log(`left by the kill: incoming/ ${incoming.length}, ready/ ${ready.length}`);
      t.is(incoming.length, 1, 'the reception cut short');
      t.true(ready.length <= 1);
      for (const name of ready) {
        const meta = decodeFileMetaInformation(
          await readFile(path.join(ctx.spool, 'ready', name)),
        ).meta;
        t.false(
          acked.some((i) => i.SOPInstanceUID === meta.MediaStorageSOPInstanceUID),
          'an entry left in ready/ was never acknowledged',
        );
      }

      ctx.gateway = await startGatewayProcess();
      t.deepEqual(await spoolEntries(ctx.spool, 'incoming'), [], 'the restart swept incoming/');
      const last = study[299];
      const indexedAlready = rows.some((r) => r.sop_instance_uid === last.SOPInstanceUID);
      const resent = await storescu(ctx.dicomPort, [last.path]);
      t.regex(
        resent.stdout + resent.stderr,
        /Received Store Response \(Success\)/,
        'serving again',
      );
      ctx.acknowledged.set(last.SOPInstanceUID, last);
      await drained(rows.length + (indexedAlready ? 0 : 1), 30_000, [ctx.gateway, ctx.worker]);
      await assertArchiveComplete(t, byUID, { readyAllowed: ready });
    },
  );

  // A process that starts on a shared spool (a second worker, a viewer-api, another gateway)
  // must not remove the receptions a running gateway is writing: each receiver sweeps only its
  // own incoming/ folder, and other receivers' files only once stale.
  test.serial(
    'a second worker starting while the gateway receives does not break the reception (spool sweep)',
    async (t) => {
      t.timeout(60_000);
      const dir = path.join(ctx.work, 'sweep');
      await mkdir(dir);
      const [small] = await writeStudy(dir, 1, 'sweep');
      const large = path.join(dir, 'sweep-large.dcm');
      const { SOPInstanceUID } = await writeInstanceFile(
        large,
        {
          StudyInstanceUID: small.StudyInstanceUID,
          SeriesInstanceUID: small.SeriesInstanceUID,
          Rows: 2048,
          Columns: 4096,
        },
        { sparse: true },
      );
      // storescu reaches the gateway through a relay that can stall the link mid-instance.
      const link = await startPausableRelay(ctx.dicomPort);
      t.teardown(() => link.close());
      const sender = spawnStorescu(link.port, [large]);
      t.teardown(() => sender.process.kill9().then(() => undefined));
      await waitFor(
        'the gateway receiving',
        async () => {
          for (const name of await spoolEntries(ctx.spool, 'incoming')) {
            const info = await stat(path.join(ctx.spool, 'incoming', name)).catch(() => undefined);
            if (info && info.size > 1024 * 1024) return true;
          }
          return false;
        },
        { timeoutMs: 20_000, intervalMs: 2, alive: [ctx.gateway] },
      );
      link.pause(); // a slow link: the reception stays open in incoming/
      const second = spawnLightbox('worker', environment(), 'second worker');
      t.teardown(() => second.stop(5_000).then(() => undefined));
      await waitFor(
        'the second worker to consume the queue',
        async () => (await workerCount()) >= 2,
        {
          timeoutMs: 30_000,
          intervalMs: 100,
          alive: [second],
        },
      );
      link.resume();
      await sender.done;
      t.deepEqual(
        sender.acknowledged(),
        [large],
        `the paused instance is stored: ${sender.process
          .output()
          .split('\n')
          .filter((l) => l.includes('Response'))
          .join(' ')}`,
      );
      ctx.acknowledged.set(SOPInstanceUID, { ...small, path: large, SOPInstanceUID });
    },
  );

  // Two processes starting together on a fresh bucket (docker compose up: worker and viewer-api)
  // both call makeBucket; s3rver, like Ceph RGW, answers the loser BucketAlreadyExists (MinIO:
  // BucketAlreadyOwnedByYou). Both must start. A proxy makes the two CreateBucket requests reach S3
  // one after the other, deterministically.
  test.serial(
    'two processes starting at once on a fresh bucket both start (concurrent makeBucket)',
    async (t) => {
      const proxy = await startSerialisingS3Proxy(ctx.s3.port);
      t.teardown(() => proxy.close());
      const config = ObjectsConfig.parse({
        kind: 's3',
        endPoint: '127.0.0.1',
        port: proxy.port,
        useSSL: false,
        accessKey: ctx.s3.accessKey,
        secretKey: ctx.s3.secretKey,
        bucket: 'lightbox-race',
      });
      const results = await Promise.allSettled([
        createObjectStore(config),
        createObjectStore(config),
      ]);
      for (const r of results) if (r.status === 'fulfilled') await r.value.close();
      t.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? 'started' : (r.reason as Error).message)),
        ['started', 'started'],
      );
    },
  );
}

/** A TCP relay to 127.0.0.1:target whose client → server direction can be stalled. */
async function startPausableRelay(target: number): Promise<{
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}> {
  const links = new Map<net.Socket, net.Socket>(); // client → upstream
  let paused = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    links.set(client, upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      links.delete(client);
    };
    for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
    upstream.pipe(client);
    if (paused) client.pause();
    else client.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pause() {
      paused = true;
      for (const client of links.keys()) {
        client.unpipe();
        client.pause();
      }
    },
    resume() {
      paused = false;
      for (const [client, upstream] of links) client.pipe(upstream);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of links) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/**
 * An HTTP relay to s3rver that holds CreateBucket requests (PUT /<bucket>) until two have arrived,
 * then forwards them one after the other: the order a real S3 serialises a race in.
 */
async function startSerialisingS3Proxy(
  s3Port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const held: ((done?: () => void) => void)[] = [];
  const server = http.createServer((req, res) => {
    const forward = (done: () => void = () => undefined) => {
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: s3Port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(res);
          response.on('end', done);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (req.method === 'PUT' && /^\/[^/?]+\/?(\?.*)?$/.test(req.url ?? '')) {
      held.push(forward);
      if (held.length === 2) held[0](() => held[1]());
    } else {
      forward();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
