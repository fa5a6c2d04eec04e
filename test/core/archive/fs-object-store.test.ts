/**
 * FsObjectStore against the ObjectStore contract, in a temporary directory (no service needed).
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import test from 'ava';
import { createObjectStore } from '../../../core/archive/create-object-store.js';
import { ExactSizeStream, FsObjectStore } from '../../../core/archive/fs-object-store.js';
import type { ObjectStore } from '../../../core/archive/object-store.js';
import { pooledCalls } from '../../../core/fs/file-system-calls.js';
import { objectStoreContract } from './object-store.contract.js';

/**
 * The contract's fixture on a store under a new temporary directory; `open` makes and initialises
 * the store in `objects/` there.
 */
function fsFixture(open: (objects: string) => Promise<ObjectStore>) {
  return async () => {
    const directory = await mkdtemp(join(tmpdir(), 'lightbox-objects-'));
    const root = join(directory, 'objects');
    const store = await open(root);
    return {
      store,
      /** Every file under the prefix, temporary files included. */
      async listKeys(prefix: string) {
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
  };
}

objectStoreContract(
  test,
  'fs',
  fsFixture((objects) => createObjectStore({ kind: 'fs', directory: objects })),
);

// The same contract with every file call on the thread pool, as on a network file system.
objectStoreContract(
  test,
  'fs-pooled',
  fsFixture(async (objects) => {
    const store = new FsObjectStore(objects, { fileSystemCalls: pooledCalls });
    await store.init();
    return store;
  }),
);

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

async function storeWithFile(t: { teardown(fn: () => Promise<void>): void }) {
  const directory = await mkdtemp(join(tmpdir(), 'lightbox-objects-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const store = new FsObjectStore(join(directory, 'objects'));
  await store.init();
  const file = async (name: string, text: string) => {
    const path = join(directory, name);
    await writeFile(path, text);
    return path;
  };
  return { directory, store, file };
}

test('fs putFile: a hard link at the key, the same inode as the file (no copy)', async (t) => {
  const { directory, store, file } = await storeWithFile(t);
  const source = await file('a.dcm', 'first bytes');
  await store.putFile('studies/1/series/2/3.dcm', source, 11);
  const stored = join(directory, 'objects', 'studies/1/series/2/3.dcm');
  t.is((await stat(stored)).ino, (await stat(source)).ino);
  t.is(await readFile(stored, 'utf8'), 'first bytes');
  t.deepEqual(await readdir(join(directory, 'objects', '.tmp')), []);
});

test('fs putFile over an existing key replaces it whole (a resumed job)', async (t) => {
  const { directory, store, file } = await storeWithFile(t);
  await store.putFile('s/1.dcm', await file('a', 'old'), 3);
  await store.putFile('s/1.dcm', await file('b', 'new!'), 4);
  t.is(await readFile(join(directory, 'objects', 's/1.dcm'), 'utf8'), 'new!');
  t.deepEqual(await readdir(join(directory, 'objects', '.tmp')), []);
});

test('fs putFile into a remembered folder removed since (an erasure) makes it again', async (t) => {
  const { directory, store, file } = await storeWithFile(t);
  await store.putFile('studies/9/a.dcm', await file('a', 'aa'), 2);
  await rm(join(directory, 'objects', 'studies'), { recursive: true });
  await store.putFile('studies/9/b.dcm', await file('b', 'bb'), 2);
  t.is(await readFile(join(directory, 'objects', 'studies/9/b.dcm'), 'utf8'), 'bb');
});

test('fs putFile of a file that is gone: NotFound, nothing at the key', async (t) => {
  const { store } = await storeWithFile(t);
  await t.throwsAsync(store.putFile('s/1.dcm', '/nonexistent/x.dcm', 1), { code: 'NotFound' });
  t.is(await store.statObject('s/1.dcm'), null);
});

test('fs putFile: many links at once into one new folder all land', async (t) => {
  const { directory, store, file } = await storeWithFile(t);
  const sources = await Promise.all(Array.from({ length: 20 }, (_, i) => file(`f${i}`, `x${i}`)));
  await Promise.all(sources.map((s, i) => store.putFile(`a/b/c/${i}.dcm`, s, `x${i}`.length)));
  t.is((await readdir(join(directory, 'objects', 'a/b/c'))).length, 20);
});
