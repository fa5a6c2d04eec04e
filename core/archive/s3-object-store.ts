/**
 * ObjectStore on an S3-compatible bucket (MinIO, AWS S3, …) through the minio client.
 *
 * minio 8 buffers the body of a single PUT in memory (objects up to `partSize`) and splits larger
 * ones into multipart parts of `partSize`; without a `size` it would assume the 5 TiB maximum and
 * buffer ≈560 MiB parts, so the size is always passed. S3 makes an object visible only when its PUT
 * (or CompleteMultipartUpload) succeeds, which gives the port's "visible only once complete".
 */
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'minio';
import type { ObjectsConfig } from '../../config/schema.js';
import { LightboxError, isLightboxError } from '../errors.js';
import {
  ExactSizeStream,
  assertValidObjectKey,
  assertValidRange,
  assertValidSize,
  watchSourceError,
} from './fs-object-store.js';
import type { ByteRange, ListedObject, ObjectStat, ObjectStore } from './object-store.js';

/** The `objects` slice of the configuration when `kind` is `s3`. */
export type S3ObjectsConfig = Extract<ObjectsConfig, { kind: 's3' }>;

/** Objects in one bucket. Call init() once before use (createObjectStore does). */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly #client: Client;
  readonly #agent: http.Agent;
  readonly #config: S3ObjectsConfig;

  constructor(config: S3ObjectsConfig) {
    this.#config = config;
    this.bucket = config.bucket;
    // Our own agent, so that close() can drop its kept-alive sockets.
    this.#agent = config.useSSL
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
    this.#client = new Client({
      endPoint: config.endPoint,
      port: config.port,
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      partSize: config.partSize,
      transportAgent: this.#agent,
      // The worker's queue retries transient faults; minio's own retry would also console.warn.
      retryOptions: { disableRetry: true },
    });
  }

  /**
   * Creates the bucket when it does not exist yet. Processes starting together race to create it;
   * servers answer the loser BucketAlreadyOwnedByYou (AWS, MinIO) or BucketAlreadyExists (s3rver,
   * others): whatever the answer, the bucket existing afterwards is success.
   */
  async init(): Promise<void> {
    try {
      if (await this.#client.bucketExists(this.bucket)) return;
      await this.#client.makeBucket(this.bucket, this.#config.region);
    } catch (error) {
      if (await this.#client.bucketExists(this.bucket).catch(() => false)) return;
      throw toStoreError(error);
    }
  }

  async putObject(key: string, body: Readable, size: number): Promise<void> {
    assertValidObjectKey(key);
    assertValidSize(size);
    const sourceError = watchSourceError(body);
    const checked = new ExactSizeStream(size);
    const piping = pipeline(body, checked);
    piping.catch(() => undefined); // observed below; the upload fails with the same error
    try {
      if (size === 0) {
        // minio sends an empty PUT without reading the stream: check it is empty ourselves.
        await pipeline(checked, new Writable({ write: (_chunk, _encoding, done) => done() }));
        await this.#client.putObject(this.bucket, key, Buffer.alloc(0), 0);
      } else {
        await this.#client.putObject(this.bucket, key, checked, size);
      }
      await piping;
    } catch (error) {
      checked.destroy();
      if (size > this.#config.partSize) await this.#abortIncompleteUpload(key);
      if (isLightboxError(error) || error === sourceError()) throw error;
      throw toStoreError(error);
    }
  }

  /** Uploads the file streamed from disk, its size given (nothing buffered beyond a part). */
  putFile(key: string, filePath: string, size: number): Promise<void> {
    return this.putObject(key, createReadStream(filePath), size);
  }

  async getObject(key: string, range?: ByteRange): Promise<Readable> {
    assertValidObjectKey(key);
    assertValidRange(range);
    try {
      if (!range) return await this.#client.getObject(this.bucket, key);
      const length = range.end - range.start + 1;
      return await this.#client.getPartialObject(this.bucket, key, range.start, length);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async statObject(key: string): Promise<ObjectStat | null> {
    assertValidObjectKey(key);
    try {
      const { size } = await this.#client.statObject(this.bucket, key);
      return { size };
    } catch (error) {
      if (isAbsent(error)) return null;
      throw toStoreError(error);
    }
  }

  async removeObject(key: string): Promise<void> {
    assertValidObjectKey(key);
    try {
      await this.#client.removeObject(this.bucket, key);
    } catch (error) {
      if (!isAbsent(error)) throw toStoreError(error);
    }
  }

  async ping(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.#client.bucketExists(this.bucket);
    } catch (error) {
      throw toStoreError(error);
    }
    if (!exists)
      throw new LightboxError('StorageUnavailable', 'object store bucket does not exist');
  }

  /** ListObjectsV2, page by page (the minio client follows the continuation tokens). */
  async *listObjects(prefix: string): AsyncIterable<ListedObject> {
    const stream = this.#client.listObjectsV2(this.bucket, prefix, true);
    try {
      for await (const item of stream as AsyncIterable<{ name?: string; size?: number }>) {
        if (item.name !== undefined) yield { key: item.name, size: Number(item.size ?? 0) };
      }
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }

  /** A failed multipart upload keeps its parts until aborted (best effort; lifecycle rules too). */
  async #abortIncompleteUpload(key: string): Promise<void> {
    try {
      const uploadId = await this.#client.findUploadId(this.bucket, key);
      if (uploadId) await this.#client.abortMultipartUpload(this.bucket, key, uploadId);
    } catch {
      // The original failure is what the caller needs to see.
    }
  }
}

function isAbsent(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'NoSuchKey' || code === 'NotFound';
}

/** S3 "absent" codes become NotFound; anything else from the network or the server is transient. */
function toStoreError(error: unknown): LightboxError {
  if (isLightboxError(error)) return error;
  if (isAbsent(error)) return new LightboxError('NotFound', 'object not found', { cause: error });
  if ((error as { code?: unknown }).code === 'InvalidRange') {
    return new LightboxError('NotFound', 'byte range starts beyond the object', { cause: error });
  }
  return new LightboxError('StorageUnavailable', 'object store unavailable', { cause: error });
}
