/**
 * A throwaway S3 endpoint for tests: s3rver (an in-process fake S3) on 127.0.0.1, port 0, storing
 * under its own temporary directory. It accepts the fixed credentials S3RVER / S3RVER.
 *
 * s3rver answers 501 to multipart uploads from the minio client: tests keep objects below the
 * configured partSize so that minio sends one PUT.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of s3rver's (untyped, CommonJS) API that the helper uses. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3rverHandle {
  endPoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  directory: string;
  /** Stops the server and deletes its directory. */
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with an OS-chosen port. */
export async function startS3rver(): Promise<S3rverHandle> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 'lightbox-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const { port } = await server.run();
  return {
    endPoint: '127.0.0.1',
    port,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    directory,
    async close() {
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
