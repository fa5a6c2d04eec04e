/**
 * Services mode in one process: the same startLightbox as `npm start`, configured for BullMQ on the
 * real Redis, the index on the real PostgreSQL and objects on S3 (s3rver). A study goes in with dcmtk
 * storescu; the test then reads the archive as an operator would, straight from PostgreSQL (pg) and
 * S3 (its own minio client), and compares bytes with what dcmtk storescp +B received from the same
 * send.
 *
 * Instances are kept small (≈ 8.5 KB): s3rver answers 501 to the minio client's multipart uploads,
 * so every object must stay below partSize and go up in a single PUT.
 */
import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client as MinioClient } from 'minio';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { startStorescp, storescu } from '../helpers/dcmtk.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../helpers/postgres.js';
import { deleteKeys, requireRedis, testPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { encodeInstance } from '../helpers/synthetic.js';
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
  writeStudy,
  type SentInstance,
} from './archive.js';

const BUCKET = 'lightbox-e2e';
const STUDY_SIZE = 20;

interface Context {
  work: string;
  db: TestDatabase;
  s3: S3rverHandle;
  minio: MinioClient;
  prefix: string;
  lightbox: TestLightbox;
  study: SentInstance[];
}

const serial = test.serial;

if (
  (await requireTool(test, 'storescu')) &&
  (await requireTool(test, 'storescp')) &&
  (await requireRedis(test)) &&
  (await requirePostgres(test))
) {
  const ctx = {} as Context;

  test.before(async () => {
    ctx.work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-services-'));
    ctx.db = await createTestDatabase();
    ctx.s3 = await startS3rver();
    ctx.minio = s3Client(ctx.s3);
    ctx.prefix = testPrefix();
    ctx.lightbox = await startTestLightbox({
      queue: { kind: 'bullmq', redisUrl: TEST_REDIS_URL, prefix: ctx.prefix },
      index: { kind: 'postgres', databaseUrl: ctx.db.url },
      objects: {
        kind: 's3',
        endPoint: ctx.s3.endPoint,
        port: ctx.s3.port,
        useSSL: false,
        accessKey: ctx.s3.accessKey,
        secretKey: ctx.s3.secretKey,
        bucket: BUCKET,
      },
    });
  });

  test.after.always(async () => {
    await ctx.lightbox?.stop();
    await ctx.s3?.close();
    await ctx.db?.drop();
    if (ctx.prefix) await deleteKeys(ctx.prefix);
    if (ctx.work) await rm(ctx.work, { recursive: true, force: true });
  });

  serial(
    `a study of ${STUDY_SIZE} instances: Success for each, indexed in PostgreSQL, byte-identical in S3`,
    async (t) => {
      const { lightbox, db, minio, work } = ctx;
      ctx.study = await writeStudy(work, STUDY_SIZE, 'study');
      const files = ctx.study.map((i) => i.path);

      const sent = await storescu(lightbox.gateway.port, files);
      t.is(sent.code, 0, sent.stderr);
      const output = sent.stdout + sent.stderr;
      t.is(output.match(/Received Store Response \(Success\)/g)?.length, STUDY_SIZE);

      const referenceDirectory = path.join(work, 'storescp');
      await mkdir(referenceDirectory);
      const storescp = await startStorescp(referenceDirectory);
      t.teardown(() => storescp.close());
      const toReference = await storescu(storescp.port, files);
      t.is(toReference.code, 0, toReference.stderr);

      await lightbox.settled();

      // The index, read with pg: every instance stored, none pending; one patient, study, series.
      const rows = await instanceRows(db.url);
      t.deepEqual(
        rows.map((r) => r.sop_instance_uid),
        ctx.study.map((i) => i.SOPInstanceUID).sort(),
      );
      t.true(rows.every((r) => r.state === 'stored'));
      const [levels] = await pgQuery<{ patients: number; studies: number; series: number }>(
        db.url,
        `SELECT (SELECT count(*) FROM patient)::integer AS patients,
              (SELECT count(*) FROM study)::integer AS studies,
              (SELECT count(*) FROM series)::integer AS series`,
      );
      t.deepEqual(levels, { patients: 1, studies: 1, series: 1 });
      t.true(rows.every((r) => r.study_instance_uid === ctx.study[0].StudyInstanceUID));

      // S3, read with a minio client of our own: exactly one object per instance, whose SHA-256 is
      // the one the gateway recorded while receiving, and whose data set is what storescp +B wrote.
      t.deepEqual(await listS3Keys(minio, BUCKET), rows.map((r) => r.object_key).sort());
      const bySOPInstanceUID = new Map(rows.map((r) => [r.sop_instance_uid, r]));
      const referenceFiles = await readdir(referenceDirectory);
      t.is(referenceFiles.length, STUDY_SIZE);
      for (const name of referenceFiles) {
        const received = await readFile(path.join(referenceDirectory, name));
        const { meta } = decodeFileMetaInformation(received);
        const row = bySOPInstanceUID.get(meta.MediaStorageSOPInstanceUID);
        if (!row) {
          t.fail(`${name} is not indexed`);
          continue;
        }
        const stored = await readS3Object(minio, BUCKET, row.object_key);
        t.is(sha256(stored), row.sha256, 'SHA-256 recomputed over the S3 object');
        t.is(stored.length, Number(row.size));
        t.true(
          datasetOf(stored).equals(datasetOf(received)),
          'data set bytes identical to storescp',
        );
        t.like(decodeFileMetaInformation(stored).meta, {
          MediaStorageSOPInstanceUID: meta.MediaStorageSOPInstanceUID,
          TransferSyntaxUID: meta.TransferSyntaxUID,
          SourceApplicationEntityTitle: 'STORESCU',
        });
      }

      const spool = path.join(lightbox.dataDirectory, 'spool');
      t.deepEqual(await spoolEntries(spool, 'ready'), []);
      t.deepEqual(await spoolEntries(spool, 'incoming'), []);
      t.deepEqual(await spoolEntries(spool, 'failed'), []);
    },
  );

  serial(
    're-sending the study changes nothing; other bytes under a known SOP Instance UID are kept aside in S3',
    async (t) => {
      const { lightbox, db, minio, work, study } = ctx;
      if (!study) return t.fail('needs the first test');
      const keysBefore = await listS3Keys(minio, BUCKET);
      const rowsBefore = await instanceRows(db.url);

      const again = await storescu(
        lightbox.gateway.port,
        study.map((i) => i.path),
      );
      t.is((again.stdout + again.stderr).match(/\(Success\)/g)?.length, STUDY_SIZE);
      const first = study[0];
      const other = path.join(work, 'other-bytes.dcm');
      await writeFile(
        other,
        encodeInstance({
          StudyInstanceUID: first.StudyInstanceUID,
          SeriesInstanceUID: first.SeriesInstanceUID,
          SOPInstanceUID: first.SOPInstanceUID,
        }),
      );
      const conflicting = await storescu(lightbox.gateway.port, [other]);
      t.regex(conflicting.stdout + conflicting.stderr, /Received Store Response \(Success\)/);
      await lightbox.settled();

      t.deepEqual(await instanceRows(db.url), rowsBefore, 'index unchanged: the first bytes stay');
      const conflicts = await pgQuery<{
        sop_instance_uid: string;
        sha256: string;
        object_key: string;
      }>(db.url, 'SELECT sop_instance_uid, sha256, object_key FROM instance_conflict');
      t.is(conflicts.length, 1);
      t.is(conflicts[0].sop_instance_uid, first.SOPInstanceUID);
      const keysAfter = await listS3Keys(minio, BUCKET);
      t.deepEqual(keysAfter, [...keysBefore, conflicts[0].object_key].sort());
      const keptAside = await readS3Object(minio, BUCKET, conflicts[0].object_key);
      t.is(sha256(keptAside), conflicts[0].sha256);
      t.true(
        datasetOf(keptAside).equals(datasetOf(await readFile(other))),
        'the other bytes, unchanged',
      );
      t.deepEqual(await spoolEntries(path.join(lightbox.dataDirectory, 'spool'), 'ready'), []);
    },
  );
}
