import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { lockDirectory, STALE_MS } from '../../../core/archive/directory-lock.js';

async function directory(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), 'lightbox-lock-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  return path.join(parent, 'index');
}

const lockOf = (owner: { pid: number; host?: string }) =>
  JSON.stringify({
    host: hostname(),
    since: new Date().toISOString(),
    purpose: 'Lightbox',
    ...owner,
  });

test('one owner at a time; released, the directory can be locked again', async (t) => {
  const dir = await directory(t);
  const lock = await lockDirectory(dir, 'Lightbox');
  t.deepEqual(JSON.parse(await readFile(`${dir}.lock`, 'utf8')), {
    pid: process.pid,
    host: hostname(),
    since: JSON.parse(await readFile(`${dir}.lock`, 'utf8')).since,
    purpose: 'Lightbox',
  });
  const refused = await t.throwsAsync(lockDirectory(dir, 'lightbox verify'), {
    code: 'StorageUnavailable',
  });
  t.regex(refused!.message, /in use by Lightbox \(pid \d+ .*stop Lightbox first/);
  await lock.release();
  const again = await lockDirectory(dir, 'lightbox verify');
  await again.release();
});

test('a live process on this host keeps its lock', async (t) => {
  const dir = await directory(t);
  await writeFile(`${dir}.lock`, lockOf({ pid: process.ppid }));
  await t.throwsAsync(lockDirectory(dir, 'cli'), { code: 'StorageUnavailable' });
});

test('the lock of a dead process (kill -9) is taken over', async (t) => {
  const dir = await directory(t);
  const dead = spawnSync('true').pid!;
  await writeFile(`${dir}.lock`, lockOf({ pid: dead }));
  const lock = await lockDirectory(dir, 'cli');
  t.is(JSON.parse(await readFile(`${dir}.lock`, 'utf8')).pid, process.pid);
  await lock.release();
});

test('another host: held while touched, stale once untouched for STALE_MS', async (t) => {
  const dir = await directory(t);
  await writeFile(`${dir}.lock`, lockOf({ pid: 1, host: 'elsewhere' }));
  await t.throwsAsync(lockDirectory(dir, 'cli'), { code: 'StorageUnavailable' });
  const old = new Date(Date.now() - STALE_MS - 5_000);
  await utimes(`${dir}.lock`, old, old);
  const lock = await lockDirectory(dir, 'cli');
  await lock.release();
  t.pass();
});
