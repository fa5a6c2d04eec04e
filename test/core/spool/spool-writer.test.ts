import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  localCalls,
  pooledCalls,
  type FileSystemCalls,
} from '../../../core/fs/file-system-calls.js';
import { Spool } from '../../../core/spool/spool.js';

// Every test runs with both ways of making file-system calls (core/fs/file-system-calls.ts).
const CALLS: FileSystemCalls[] = [localCalls, pooledCalls];

async function spool(
  t: { teardown(fn: () => Promise<void>): void },
  calls: FileSystemCalls,
): Promise<Spool> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-spool-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const s = new Spool({ directory, fsync: true, fileSystemCalls: calls });
  await s.init();
  return s;
}

/** Descriptors this process holds, from /proc (Linux). Counted in serial tests only. */
async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

for (const calls of CALLS) {
  test(`a reception aborted before its file is open leaves nothing behind (${calls.kind})`, async (t) => {
    const s = await spool(t, calls);
    await Promise.all(Array.from({ length: 50 }, () => s.open(1024).abort()));
    t.deepEqual(await readdir(s.incomingDirectory), []);
  });

  test(`commit names the file by its SHA-256 and moves it to ready/ (${calls.kind})`, async (t) => {
    const s = await spool(t, calls);
    const writer = s.open(1024);
    writer.end(Buffer.from('abc'));
    const committed = await writer.commit();
    t.is(committed.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    t.is(committed.size, 3);
    t.deepEqual(await readdir(s.readyDirectory), [committed.spoolName]);
    t.deepEqual(await readdir(s.incomingDirectory), []);
  });

  test(`more bytes than allowed: PayloadTooLarge at commit, nothing kept (${calls.kind})`, async (t) => {
    const s = await spool(t, calls);
    const writer = s.open(10);
    writer.write(Buffer.alloc(8));
    writer.end(Buffer.alloc(8));
    const error = await t.throwsAsync(writer.commit());
    t.is((error as { code?: string }).code, 'PayloadTooLarge');
    t.deepEqual(await readdir(s.incomingDirectory), []);
    t.deepEqual(await readdir(s.readyDirectory), []);
  });

  test(`the spool file cannot be created: the bytes are drained, StorageUnavailable at commit (${calls.kind})`, async (t) => {
    const s = await spool(t, calls);
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

  test.serial(
    `committed and aborted receptions leave no descriptor open (${calls.kind})`,
    async (t) => {
      const s = await spool(t, calls);
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
      // A committed file is closed in the background, once synced: wait for the last closes.
      for (let waited = 0; (await openDescriptors()) > before && waited < 2000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // At most as many as before: the first commit's own background close may land meanwhile.
      t.true((await openDescriptors()) <= before, 'descriptors left open');
      t.is((await readdir(s.readyDirectory)).length, 21);
      t.deepEqual(await readdir(s.incomingDirectory), []);
    },
  );
}
