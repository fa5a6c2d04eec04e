import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DirectorySync, DirectorySyncs } from '../../../core/fs/directory-sync.js';

/** A DirectorySync whose fsyncs the test completes one by one, in order. */
class GatedSync extends DirectorySync {
  readonly started: (() => void)[] = [];

  constructor() {
    super('/nonexistent');
  }

  protected override fsync(): Promise<void> {
    return new Promise((resolve) => this.started.push(resolve));
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a caller arriving while an fsync runs waits for the next one, shared by all such callers', async (t) => {
  const sync = new GatedSync();
  const done: string[] = [];
  const first = sync.sync().then(() => done.push('first'));
  await tick();
  t.is(sync.started.length, 1);
  // These renames happened after fsync #1 began: #1 does not cover them.
  const second = sync.sync().then(() => done.push('second'));
  const third = sync.sync().then(() => done.push('third'));
  await tick();
  t.is(sync.started.length, 1, 'no second fsync while the first runs');
  sync.started[0]!();
  await first;
  await tick();
  t.deepEqual(done, ['first'], 'the later callers are not released by the earlier fsync');
  t.is(sync.started.length, 2, 'one fsync serves both later callers');
  sync.started[1]!();
  await Promise.all([second, third]);
  t.deepEqual(done, ['first', 'second', 'third']);
  // Idle again: the next caller starts at once.
  const fourth = sync.sync();
  await tick();
  t.is(sync.started.length, 3);
  sync.started[2]!();
  await fourth;
});

test('fsyncs a real directory, keeps its handle until close, and recovers after a failure', async (t) => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-dirsync-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const sync = new DirectorySync(path.join(directory, 'ready'));
  await t.throwsAsync(sync.sync(), { code: 'ENOENT' });
  await (await import('node:fs/promises')).mkdir(path.join(directory, 'ready'));
  await Promise.all([sync.sync(), sync.sync(), sync.sync()]);
  await sync.close();
  await sync.sync(); // reopens
  await sync.close();
  t.pass();
});

test('DirectorySyncs syncs each directory and forgets idle ones', async (t) => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-dirsync-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const syncs = new DirectorySyncs();
  await Promise.all([syncs.sync(directory), syncs.sync(directory), syncs.sync(os.tmpdir())]);
  t.is((syncs as unknown as { syncs: Map<string, unknown> }).syncs.size, 0);
});
