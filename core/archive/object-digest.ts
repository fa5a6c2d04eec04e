/**
 * Reads a stored object once, streaming, and measures it: its size and SHA-256, and optionally a copy
 * of its bytes into `sink` (a file being exported, a temporary file being re-indexed). The index holds
 * the SHA-256 of the bytes that were acknowledged; this is how an operator checks they are intact.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from './object-store.js';

export interface ObjectDigest {
  size: number;
  sha256: string;
}

export async function digestObject(
  objects: ObjectStore,
  key: string,
  sink?: NodeJS.WritableStream,
): Promise<ObjectDigest> {
  const hash = createHash('sha256');
  let size = 0;
  const measure = new PassThrough();
  measure.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  const target = sink ?? new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline(await objects.getObject(key), measure, target);
  return { size, sha256: hash.digest('hex') };
}
