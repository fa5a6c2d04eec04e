/**
 * PGlite's commits reach the disk (core/archive/pglite-durability.ts): PostgreSQL runs with fsync on,
 * each commit fsyncs its WAL through the operation given to NODEFS, a checkpoint fsyncs the data
 * files it wrote, and the index's own PGlite thread runs that way.
 */
import { fsyncSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PGlite } from '@electric-sql/pglite';
import {
  durableStartParams,
  syncDirectoryTree,
  syncWritesToDisk,
} from '../../../core/archive/pglite-durability.js';
import { PGLITE_OPTIONS } from '../../../core/archive/pglite-options.js';
import { createPgliteThreadClient } from '../../../core/archive/pglite-thread-client.js';

/** PGlite started as the index thread starts it, on a fresh directory removed after the test. */
async function openDurable(t: ExecutionContext): Promise<{ db: PGlite; directory: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'lightbox-pglite-durable-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const directory = join(parent, 'index');
  const db = await PGlite.create(directory, {
    ...PGLITE_OPTIONS,
    startParams: durableStartParams(PGlite.defaultStartParams),
  });
  return { db, directory };
}

test('PGlite as shipped runs without fsync; the start parameters drop -F only', (t) => {
  t.true(PGlite.defaultStartParams.includes('-F'));
  const params = durableStartParams(PGlite.defaultStartParams);
  t.false(params.includes('-F'));
  t.deepEqual(params.slice(-4), ['-c', 'fsync=on', '-c', 'wal_sync_method=fsync']);
  t.deepEqual(
    params.slice(0, -4),
    PGlite.defaultStartParams.filter((p) => p !== '-F'),
  );
});

test('every commit fsyncs; a checkpoint fsyncs the files it wrote', async (t) => {
  const { db, directory } = await openDurable(t);
  const synced = syncWritesToDisk(db);
  t.like((await db.query('SHOW fsync')).rows[0], { fsync: 'on' });
  await db.exec('CREATE TABLE t (v text)');
  const before = synced.fsyncs();
  for (let i = 0; i < 5; i++) await db.query('INSERT INTO t VALUES ($1)', [`row ${i}`]);
  t.true(synced.fsyncs() - before >= 5, `${synced.fsyncs() - before} fsyncs for 5 commits`);
  const beforeRead = synced.fsyncs();
  await db.query('SELECT count(*) FROM t');
  t.is(synced.fsyncs(), beforeRead, 'a read commits nothing');
  await db.exec('CHECKPOINT');
  t.true(synced.fsyncs() > beforeRead, 'the checkpoint synced the files it wrote');
  await db.close();
  // The directory after a clean close opens again with every row.
  const again = await PGlite.create(directory, PGLITE_OPTIONS);
  t.like((await again.query('SELECT count(*)::int AS n FROM t')).rows[0], { n: 5 });
  await again.close();
  await t.notThrowsAsync(syncDirectoryTree(directory));
});

test('a failed fsync fails the commit with a PANIC, never a success', async (t) => {
  const { db } = await openDurable(t);
  let failing = false;
  syncWritesToDisk(db, (fd) => {
    if (failing) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    fsyncSync(fd);
  });
  await db.exec('CREATE TABLE t (v text)');
  failing = true;
  const error = await t.throwsAsync(db.query('INSERT INTO t VALUES ($1)', ['lost?']));
  t.like(error, { severity: 'PANIC', code: '58030' });
  t.regex(error!.message, /could not fsync/);
  // PGlite is unusable after a PANIC (its next statement never returns): the index thread refuses
  // every later statement itself (pglite-thread.ts), and a restart recovers from the WAL.
});

test("the index's PGlite thread runs with fsync on", async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'lightbox-pglite-durable-'));
  const sql = await createPgliteThreadClient(join(parent, 'index'));
  t.teardown(async () => {
    await sql.close();
    await rm(parent, { recursive: true, force: true });
  });
  t.deepEqual(await sql.query('SHOW fsync'), [{ fsync: 'on' }]);
  t.deepEqual(await sql.query('SHOW wal_sync_method'), [{ wal_sync_method: 'fsync' }]);
});
