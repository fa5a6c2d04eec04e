import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Spool } from '../../../core/spool/spool.js';

async function spool(t: { teardown(fn: () => Promise<void>): void }): Promise<Spool> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-spool-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const s = new Spool({ directory, fsync: true });
  await s.init();
  return s;
}

test('a reception aborted before its file is open leaves nothing behind', async (t) => {
  const s = await spool(t);
  await Promise.all(Array.from({ length: 50 }, () => s.open(1024).abort()));
  t.deepEqual(await readdir(s.incomingDirectory), []);
});

test('commit names the file by its SHA-256 and moves it to ready/', async (t) => {
  const s = await spool(t);
  const writer = s.open(1024);
  writer.end(Buffer.from('abc'));
  const committed = await writer.commit();
  t.is(committed.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.is(committed.size, 3);
  t.deepEqual(await readdir(s.readyDirectory), [committed.spoolName]);
  t.deepEqual(await readdir(s.incomingDirectory), []);
});

test('more bytes than allowed: PayloadTooLarge at commit, nothing kept', async (t) => {
  const s = await spool(t);
  const writer = s.open(10);
  writer.write(Buffer.alloc(8));
  writer.end(Buffer.alloc(8));
  const error = await t.throwsAsync(writer.commit());
  t.is((error as { code?: string }).code, 'PayloadTooLarge');
  t.deepEqual(await readdir(s.incomingDirectory), []);
  t.deepEqual(await readdir(s.readyDirectory), []);
});

/** Descriptors this process holds, from /proc (Linux). */
async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

test('the spool file cannot be created: the bytes are drained, StorageUnavailable at commit', async (t) => {
  const s = await spool(t);
  await rm(s.incomingDirectory, { recursive: true });
  const writer = s.open(1 << 20);
  // The stream accepts every byte (the sender is answered with a status, not a torn association).
  t.true(writer.write(Buffer.alloc(1000)));
  writer.end(Buffer.alloc(1000));
  const error = await t.throwsAsync(writer.commit());
  t.is((error as { code?: string }).code, 'StorageUnavailable');
  t.is(writer.bytesReceived, 2000);
  t.deepEqual(await readdir(s.readyDirectory), []);
});

test('committed and aborted receptions leave no descriptor open', async (t) => {
  const s = await spool(t);
  // A first commit opens ready/'s kept descriptor (one for the spool's life): not counted below.
  const first = s.open(16);
  first.end(Buffer.from('first'));
  await first.commit();
  const before = await openDescriptors();
  const committed = Array.from({ length: 20 }, (_, i) => {
    const writer = s.open(1024);
    writer.end(Buffer.from(`instance ${i}`));
    return writer.commit();
  });
  const aborted = Array.from({ length: 20 }, () => {
    const writer = s.open(1024);
    writer.write(Buffer.from('partial'));
    return writer.abort();
  });
  await Promise.all([...committed, ...aborted]);
  t.is(await openDescriptors(), before);
  t.is((await readdir(s.readyDirectory)).length, 21);
  t.deepEqual(await readdir(s.incomingDirectory), []);
});
