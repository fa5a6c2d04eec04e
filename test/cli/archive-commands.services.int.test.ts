/**
 * The operator's commands in services mode: BullMQ on Redis, the index on PostgreSQL, objects on S3
 * (s3rver, in this test process), with a worker process archiving what `lightbox import --wait`
 * queues. Then verify, lose every index row and reindex from the bucket (the same rows), and verify
 * after an object is removed from the bucket. Instances are small: s3rver rejects the minio
 * client's multipart uploads.
 */
import test from 'ava';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ExitCode } from '../../cli/exit-codes.js';
import { runCli } from '../../cli/run.js';
import { objectKey } from '../../core/archive/object-store.js';
import {
  instanceRows,
  listS3Keys,
  pgQuery,
  s3Client,
  writeStudy,
  type SentInstance,
} from '../e2e/archive.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../helpers/postgres.js';
import { spawnLightbox, type SpawnedProcess } from '../helpers/processes.js';
import { deleteKeys, requireRedis, testPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';

const BUCKET = 'lightbox-cli';

if ((await requirePostgres(test)) && (await requireRedis(test))) {
  let work: string;
  let db: TestDatabase;
  let s3: S3rverHandle;
  let worker: SpawnedProcess;
  let study: SentInstance[];
  const prefix = testPrefix();
  let env: Record<string, string>;

  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
    const err = new PassThrough().on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await runCli(argv, { stdout: out, stderr: err, env });
    return { code, stdout, stderr };
  };

  test.before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-cli-services-'));
    db = await createTestDatabase();
    s3 = await startS3rver();
    env = {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      DATABASE_URL: db.url,
      S3_ENDPOINT: s3.endPoint,
      S3_PORT: String(s3.port),
      S3_USE_SSL: 'false',
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: BUCKET,
      SPOOL_DIR: path.join(work, 'spool'),
      LOG_LEVEL: 'silent',
    };
    worker = spawnLightbox('worker', { ...env, LOG_LEVEL: 'warn' });
    const folder = path.join(work, 'in');
    await mkdir(folder);
    study = await writeStudy(folder, 5, 'svc');
  });
  test.after.always(async () => {
    await worker?.stop();
    await s3?.close();
    await db?.drop();
    await deleteKeys(prefix);
    await rm(work, { recursive: true, force: true });
  });

  test.serial('import --wait: queued on Redis, archived by the worker process', async (t) => {
    const result = await cli('import', path.join(work, 'in'), '--wait');
    t.is(result.code, ExitCode.Ok, result.stdout + result.stderr + worker.output());
    t.regex(result.stdout, /imported 5 files: 5 accepted, 0 duplicates, 0 refused/);
    t.regex(result.stdout, /archived 5 instances/);
    const keys = await listS3Keys(s3Client(s3), BUCKET);
    t.deepEqual(keys, study.map((i) => objectKey(i)).sort());
  });

  test.serial(
    'reindex after every row is lost: the same rows; verify; a missing object',
    async (t) => {
      const before = await instanceRows(db.url);
      t.is(before.length, 5);
      await pgQuery(db.url, 'TRUNCATE instance_conflict, instance, series, study, patient CASCADE');
      const rebuilt = await cli('reindex');
      t.is(rebuilt.code, ExitCode.Ok, rebuilt.stdout + rebuilt.stderr);
      t.regex(rebuilt.stdout, /reindexed 5 objects: 5 indexed, 0 unchanged/);
      t.deepEqual(await instanceRows(db.url), before);
      const again = await cli('reindex');
      t.regex(again.stdout, /reindexed 5 objects: 0 indexed, 5 unchanged/);

      t.is((await cli('verify')).code, ExitCode.Ok);
      await s3Client(s3).removeObject(BUCKET, objectKey(study[2]));
      const verified = await cli('verify');
      t.is(verified.code, ExitCode.Failure);
      t.true(verified.stdout.includes(`MISSING  ${objectKey(study[2])}`));
      t.regex(verified.stdout, /verified 5 objects: 4 intact, 1 with problems/);
    },
  );
}
