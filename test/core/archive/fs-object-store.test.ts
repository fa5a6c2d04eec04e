/**
 * FsObjectStore against the ObjectStore contract, in a temporary directory (no service needed).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import test from 'ava';
import { createObjectStore } from '../../../core/archive/create-object-store.js';
import { ExactSizeStream, FsObjectStore } from '../../../core/archive/fs-object-store.js';
import { objectStoreContract } from './object-store.contract.js';

objectStoreContract(test, 'fs', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'lightbox-objects-'));
  const store = await createObjectStore({ kind: 'fs', directory: join(directory, 'objects') });
  return {
    store,
    /** Every file under the prefix, temporary files included. */
    async listKeys(prefix) {
      const root = join(directory, 'objects');
      const entries = await readdir(join(root, prefix), {
        recursive: true,
        withFileTypes: true,
      }).catch(() => []);
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
    },
    async close() {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
});

test('fs: ping fails with StorageUnavailable when the directory is gone', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'lightbox-objects-'));
  const store = new FsObjectStore(join(directory, 'objects'));
  await store.init();
  await rm(directory, { recursive: true });
  await t.throwsAsync(store.ping(), { code: 'StorageUnavailable' });
});

// minio's multipart upload reads the body through body.pipe(chunker), which does not pass a source
// error on; without this the upload would wait forever for the rest of a short body.
test('ExactSizeStream fails whatever it is piped into when the body is short', async (t) => {
  const checked = new ExactSizeStream(10);
  const destination = new PassThrough();
  checked.on('error', () => undefined);
  Readable.from([Buffer.from('12345')])
    .pipe(checked)
    .pipe(destination);
  t.timeout(5_000, 'without the forwarding, the destination waits forever');
  const error = await t.throwsAsync(finished(destination));
  t.is((error as { code?: string }).code, 'InvalidDataset');
});
