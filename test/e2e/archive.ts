/**
 * Shared by the end-to-end tests: synthetic studies on disk, and reading the archive the way an
 * operator would, straight from PostgreSQL (pg), S3 (a minio client of its own) and the spool
 * directory, never through Lightbox's own adapters.
 */
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Client as MinioClient } from 'minio';
import pg from 'pg';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import type { S3rverHandle } from '../helpers/s3rver.js';
import { encodeInstance, makeUID, writeInstanceFile } from '../helpers/synthetic.js';

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The data set bytes of a Part 10 file: everything after its File Meta Information. */
export const datasetOf = (file: Buffer) =>
  file.subarray(decodeFileMetaInformation(file).datasetOffset);

export interface SentInstance {
  path: string;
  SOPInstanceUID: string;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
}

/**
 * `count` small instances (64 × 64 × 16 bit, ≈ 8.5 KB each: far below the S3 multipart threshold,
 * which s3rver does not implement for the minio client) of one study and series.
 */
export async function writeStudy(
  directory: string,
  count: number,
  name = 'inst',
): Promise<SentInstance[]> {
  const StudyInstanceUID = makeUID();
  const SeriesInstanceUID = makeUID();
  const instances: SentInstance[] = [];
  for (let i = 1; i <= count; i++) {
    const SOPInstanceUID = makeUID();
    const file = path.join(directory, `${name}-${String(i).padStart(4, '0')}.dcm`);
    await writeFile(
      file,
      encodeInstance({
        StudyInstanceUID,
        SeriesInstanceUID,
        SOPInstanceUID,
        InstanceNumber: i,
        PatientID: `E2E-${StudyInstanceUID.slice(-6)}`,
      }),
    );
    instances.push({ path: file, SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID });
  }
  return instances;
}

/**
 * The study's files with one large instance (2048 × 4096 × 16 bit = 16 MiB, sparse) of its first
 * series inserted at `position`: the one a kill lands on, mid-reception.
 */
export async function withLargeInstance(
  study: SentInstance[],
  file: string,
  position: number,
): Promise<{ files: string[]; large: string; largeUID: string }> {
  const { SOPInstanceUID } = await writeInstanceFile(
    file,
    {
      StudyInstanceUID: study[0]!.StudyInstanceUID,
      SeriesInstanceUID: study[0]!.SeriesInstanceUID,
      Rows: 2048,
      Columns: 4096,
    },
    { sparse: true },
  );
  const files = study.map((i) => i.path);
  files.splice(position, 0, file);
  return { files, large: file, largeUID: SOPInstanceUID };
}

/** One query on its own connection. */
export async function pgQuery<Row extends Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return (await client.query<Row>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export interface InstanceRow extends Record<string, unknown> {
  sop_instance_uid: string;
  state: string;
  sha256: string;
  size: string;
  object_key: string;
  study_instance_uid: string | null;
}

export function instanceRows(databaseUrl: string): Promise<InstanceRow[]> {
  return pgQuery<InstanceRow>(
    databaseUrl,
    `SELECT sop_instance_uid, state, sha256, size::text AS size, object_key, study_instance_uid
       FROM instance ORDER BY sop_instance_uid`,
  );
}

/** Stored instances, or undefined before the migrations created the table. */
export async function storedCount(databaseUrl: string): Promise<number | undefined> {
  const rows = await pgQuery<{ n: number }>(
    databaseUrl,
    `SELECT count(*)::integer AS n FROM instance WHERE state = 'stored'`,
  ).catch(() => undefined);
  return rows?.[0].n;
}

export function s3Client(
  s3: Pick<S3rverHandle, 'endPoint' | 'port' | 'accessKey' | 'secretKey'>,
): MinioClient {
  return new MinioClient({
    endPoint: s3.endPoint,
    port: s3.port,
    useSSL: false,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: 'us-east-1',
  });
}

export async function readS3Object(
  client: MinioClient,
  bucket: string,
  key: string,
): Promise<Buffer> {
  const stream: Readable = await client.getObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Every key of the bucket. ListObjects version 1 (marker paging): s3rver's version 2 continuation
 * token is DES-encrypted, which OpenSSL 3 (Node 20) no longer offers, so past 1,000 keys its second
 * page fails with 500.
 */
export async function listS3Keys(client: MinioClient, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of client.listObjects(bucket, '', true)) {
    const name = (item as { name?: string }).name;
    if (name) keys.push(name);
  }
  return keys.sort();
}

/** Entries of a spool sub-directory ('' when it does not exist yet). */
export { spoolEntries } from '../helpers/spool.js';
