/**
 * FileReadStream: the bytes of the range it was given, in chunks of its size, and its descriptor
 * closed at the end and on destroy, also when destroyed with a read in flight.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import test from 'ava';
import { FileReadStream } from '../../../core/fs/file-read-stream.js';

const isOpen = (fd: number) => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

async function file(t: import('ava').ExecutionContext, bytes: Buffer): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'lightbox-read-stream-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'object');
  await writeFile(path, bytes);
  return path;
}

test.serial('reads the range in chunks of its size, then closes the descriptor', async (t) => {
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  const fd = openSync(await file(t, bytes), 'r');
  const stream = new FileReadStream(fd, 100, 899, 300);
  const chunks: number[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.length));
  const read = await buffer(stream);
  t.deepEqual(read, bytes.subarray(100, 900));
  t.deepEqual(chunks, [300, 300, 200]);
  await new Promise((resolve) => setImmediate(resolve));
  t.false(isOpen(fd));
});

test.serial(
  'destroyed while a read is in flight: closes once the read is back, not before',
  async (t) => {
    const fd = openSync(await file(t, Buffer.alloc(8 * 1024 * 1024, 7)), 'r');
    const stream = new FileReadStream(fd, 0, 8 * 1024 * 1024 - 1);
    stream.read(0); // starts the first read
    stream.destroy();
    t.true(isOpen(fd), 'the read in flight still holds it');
    await new Promise((resolve) => stream.once('close', resolve));
    t.false(isOpen(fd));
  },
);

test.serial('an asynchronous close (network file system) is awaited before close', async (t) => {
  const fd = openSync(await file(t, Buffer.from('DICM')), 'r');
  const closed: number[] = [];
  const stream = new FileReadStream(fd, 0, 3, undefined, async (descriptor) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    closeSync(descriptor);
    closed.push(descriptor);
  });
  t.deepEqual(await buffer(stream), Buffer.from('DICM'));
  if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
  t.deepEqual(closed, [fd], "'close' only once the descriptor is closed");
  t.false(isOpen(fd));
});
