import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  NETWORK_FILE_SYSTEM_TYPES,
  fileSystemCallsFor,
  localCalls,
  pooledCalls,
} from '../../../core/fs/file-system-calls.js';

test('a local temporary directory gets direct calls', async (t) => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-calls-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  t.is((await fileSystemCallsFor(directory)).kind, 'local');
});

test('a directory whose file system cannot be read gets the thread pool', async (t) => {
  t.is((await fileSystemCallsFor('/nonexistent/lightbox')).kind, 'pooled');
});

test('NFS, SMB, CephFS, FUSE and 9p are known as network file systems', (t) => {
  for (const name of ['nfs', 'cifs', 'smb2', 'ceph', 'fuse', '9p']) {
    t.true([...NETWORK_FILE_SYSTEM_TYPES.values()].includes(name), name);
  }
  t.is(NETWORK_FILE_SYSTEM_TYPES.get(0x6969), 'nfs');
});

for (const calls of [localCalls, pooledCalls]) {
  test(`${calls.kind}: create, write, sync, link, rename, stat, unlink; errors as rejections`, async (t) => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-calls-'));
    t.teardown(() => rm(directory, { recursive: true, force: true }));
    const file = path.join(directory, 'a');
    const fd = await calls.open(file, 'wx', 0o640);
    t.is(await calls.writev(fd, [Buffer.from('DICM'), Buffer.from('-bytes')]), 10);
    await calls.fdatasync(fd);
    await calls.fsync(fd);
    await calls.close(fd);
    await calls.link(file, path.join(directory, 'b'));
    await calls.rename(path.join(directory, 'b'), path.join(directory, 'c'));
    t.is((await calls.stat(path.join(directory, 'c'))).size, 10);
    t.is(await readFile(path.join(directory, 'c'), 'latin1'), 'DICM-bytes');
    await calls.unlink(file);
    // Failures are rejections with the system's code, never synchronous throws.
    const created = calls.open(file, 'r');
    t.is(((await t.throwsAsync(created)) as NodeJS.ErrnoException).code, 'ENOENT');
    const linked = calls.link(path.join(directory, 'c'), path.join(directory, 'c'));
    t.is(((await t.throwsAsync(linked)) as NodeJS.ErrnoException).code, 'EEXIST');
  });
}
