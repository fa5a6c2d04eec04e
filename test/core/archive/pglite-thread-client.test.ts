/**
 * The PGlite thread client's group commit and prepared statements: same results as statements run
 * alone, and a failing statement in a batch fails alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { createPgliteThreadClient } from '../../../core/archive/pglite-thread-client.js';
import { seedPgliteDirectory } from '../../helpers/pglite-template.js';
import { literals } from '../../../core/archive/pglite-prepared.js';
import type { SqlClient } from '../../../core/archive/sql-client.js';

/** A PGlite thread client on a fresh directory, closed and removed when the test ends. */
async function openClient(
  t: ExecutionContext,
  options?: Parameters<typeof createPgliteThreadClient>[1],
): Promise<SqlClient> {
  const parent = await mkdtemp(join(tmpdir(), 'lightbox-pglite-client-'));
  await seedPgliteDirectory(join(parent, 'index'));
  const sql = await createPgliteThreadClient(join(parent, 'index'), options);
  t.teardown(async () => {
    await sql.close();
    await rm(parent, { recursive: true, force: true });
  });
  return sql;
}

test('literals: quoted strings with doubled quotes, numbers, booleans, NULL; anything else refused', (t) => {
  t.deepEqual(literals(["O'Brien^Pat", 42, -1.5, true, null, undefined]), [
    "'O''Brien^Pat'",
    "'42'",
    "'-1.5'",
    "'true'",
    'NULL',
    'NULL',
  ]);
  t.is(literals(['a\0b']), undefined);
  t.is(literals([Number.NaN]), undefined);
  t.is(literals([{ a: 1 }]), undefined);
  t.is(literals([['1', '2']]), undefined);
});

test('statements sent together, repeated (prepared) or not, each get their own rows or error', async (t) => {
  const sql = await openClient(t);
  await sql.exec('CREATE TABLE t (k text PRIMARY KEY, n integer, b boolean)');
  const insert =
    'INSERT INTO t (k, n, b) VALUES ($1, $2, $3) ON CONFLICT (k) DO NOTHING RETURNING k, n, b';
  // 60 at once: the first runs alone, the rest arrive while it runs and go together; the text
  // repeats, so most run as EXECUTE of a prepared statement. Quotes and NULL survive.
  const keys = Array.from({ length: 60 }, (_, i) => `k'${i}`);
  const rows = await Promise.all(
    keys.map((k, i) => sql.query(insert, [k, i % 7 === 0 ? null : i, i % 2 === 0])),
  );
  t.deepEqual(
    rows.map((r) => r[0]),
    keys.map((k, i) => ({ k, n: i % 7 === 0 ? null : i, b: i % 2 === 0 })),
  );
  // A duplicate returns no row; a bad value fails only its own statement. The three are prepared and
  // go as one exec: its failure must have rolled back the other two before each ran again alone.
  const mixed = await Promise.allSettled([
    sql.query(insert, ["k'1", 1, true]),
    sql.query(insert, ['x', 'not a number', true]),
    sql.query(insert, ['y', 2, false]),
  ]);
  t.deepEqual(mixed[0], { status: 'fulfilled', value: [] });
  t.is(mixed[1].status, 'rejected');
  t.is(((mixed[1] as PromiseRejectedResult).reason as { code?: string }).code, 'Internal');
  t.deepEqual(mixed[2], { status: 'fulfilled', value: [{ k: 'y', n: 2, b: false }] });
  const [count] = await sql.query<{ c: number }>('SELECT count(*)::integer AS c FROM t');
  t.is(count!.c, 61);
});

test('asyncCommit: committed without a WAL flush of its own, flushed by the next durable commit; a batch only when all its statements ask', async (t) => {
  const sql = await openClient(t);
  await sql.exec('CREATE TABLE t (k integer PRIMARY KEY)');
  // Bytes of WAL written but not yet flushed to disk.
  const unflushed = async () =>
    Number(
      (
        await sql.query<{ n: string }>(
          'SELECT pg_current_wal_insert_lsn() - pg_current_wal_flush_lsn() AS n',
        )
      )[0]!.n,
    );
  const insert = 'INSERT INTO t (k) VALUES ($1)';
  const durable = 'INSERT INTO t (k) VALUES ($1) ON CONFLICT DO NOTHING';
  await sql.query(insert, [1], { asyncCommit: true }); // first sight: not prepared, durable
  t.is(await unflushed(), 0);
  await sql.query(insert, [2], { asyncCommit: true });
  await sql.query(insert, [3], { asyncCommit: true });
  t.true((await unflushed()) > 0, 'prepared: its commit left the WAL unflushed');
  await sql.query(durable, [4]);
  t.is(await unflushed(), 0, 'a durable commit flushes the earlier ones too');
  // Sent together: one transaction, flushed unless every statement asked for asyncCommit.
  await sql.query(durable, [5]);
  await Promise.all([10, 11, 12, 13].map((k) => sql.query(insert, [k], { asyncCommit: true })));
  t.true((await unflushed()) > 0);
  await sql.query(durable, [6]);
  await Promise.all([
    sql.query(insert, [20], { asyncCommit: true }),
    sql.query(insert, [21], { asyncCommit: true }),
    sql.query(durable, [22]),
  ]);
  t.is(await unflushed(), 0);
  const [count] = await sql.query<{ c: number }>('SELECT count(*)::integer AS c FROM t');
  t.is(count!.c, 13);
});

test('a statement without parameters is prepared too, and sees rows written after PREPARE', async (t) => {
  const sql = await openClient(t);
  await sql.exec('CREATE TABLE t (k integer PRIMARY KEY)');
  const count = 'SELECT count(*)::integer AS c FROM t';
  for (let k = 0; k < 4; k++) {
    // Third run on: EXECUTE of the statement prepared at the second.
    t.deepEqual(await sql.query(count), [{ c: k }]);
    await sql.query('INSERT INTO t (k) VALUES ($1)', [k]);
  }
  const [prepared] = await sql.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM pg_prepared_statements WHERE statement LIKE '%FROM t'`,
  );
  t.is(prepared!.n, 1);
  // A statement PREPARE refuses (a utility statement) keeps running as given.
  for (let i = 0; i < 3; i++) t.is((await sql.query('SHOW client_encoding')).length, 1);
});

test('background statements run only when no other statement waits, and one at a time', async (t) => {
  const sql = await openClient(t);
  await sql.exec('CREATE TABLE log (n integer GENERATED ALWAYS AS IDENTITY, what text)');
  const insert = 'INSERT INTO log (what) VALUES ($1)';
  // The first statement occupies the thread; while it runs, background and foreground statements
  // queue up in this order: every foreground one still runs before every background one.
  const sent = [
    sql.query(insert, ['first']),
    sql.query(insert, ['background 1'], { background: true }),
    sql.query(insert, ['foreground 1']),
    sql.query(insert, ['background 2'], { background: true }),
    sql.query(insert, ['foreground 2']),
  ];
  await Promise.all(sent);
  const rows = await sql.query<{ what: string }>('SELECT what FROM log ORDER BY n');
  t.deepEqual(
    rows.map((r) => r.what),
    ['first', 'foreground 1', 'foreground 2', 'background 1', 'background 2'],
  );
});

test('a statement seen twice is prepared, unless it asks to be planned for its values and has some', async (t) => {
  const sql = await openClient(t);
  const prepared = async () =>
    (
      await sql.query<{ statement: string }>(
        'SELECT statement FROM pg_prepared_statements ORDER BY statement',
      )
    ).map((r) => r.statement);
  const generic = 'SELECT $1::int + 1 AS n';
  const perValues = 'SELECT $1::int + 2 AS n';
  const constants = 'SELECT 3 AS n';
  for (let i = 0; i < 3; i++) {
    t.deepEqual(await sql.query(generic, [i]), [{ n: i + 1 }]);
    t.deepEqual(await sql.query(perValues, [i], { planForValues: true }), [{ n: i + 2 }]);
    t.deepEqual(await sql.query(constants, [], { planForValues: true }), [{ n: 3 }]);
  }
  const statements = await prepared();
  t.true(statements.some((s) => s.includes(generic)));
  t.false(statements.some((s) => s.includes(perValues)));
  t.true(
    statements.some((s) => s.includes(constants)),
    'without parameters the plan is for its values anyway: prepared',
  );
});

test('a background statement waits for the database to be idle, but no longer than its maximum wait', async (t) => {
  const sql = await openClient(t, { background: { idleMs: 400, maxWaitMs: 1500 } });
  await sql.exec('CREATE TABLE log (n integer GENERATED ALWAYS AS IDENTITY, what text)');
  const insert = 'INSERT INTO log (what) VALUES ($1)';
  /** A viewer's requests, one every 40 ms (never 400 ms idle) for `ms`. */
  const busyFor = async (ms: number, name: string) => {
    const until = performance.now() + ms;
    for (let i = 0; performance.now() < until; i++) {
      await sql.query(insert, [`${name} ${i}`]);
      await setTimeout(40);
    }
  };
  const order = async () =>
    (await sql.query<{ what: string }>('SELECT what FROM log ORDER BY n')).map((r) => r.what);

  const first = sql.query(insert, ['background 1'], { background: true });
  await busyFor(800, 'a');
  await first;
  const afterIdle = await order();
  t.is(afterIdle.at(-1), 'background 1', 'it waited until the requests stopped');

  const second = sql.query(insert, ['background 2'], { background: true });
  await busyFor(2500, 'b');
  await second;
  const all = await order();
  const at = all.indexOf('background 2');
  t.true(
    all.slice(0, at).some((w) => w.startsWith('b ')) &&
      all.slice(at).some((w) => w.startsWith('b ')),
    'under steady load it ran once it had waited its maximum, between two requests',
  );
});

test('the thread vacuums and analyses its tables once quiet after enough writes, never inside a transaction', async (t) => {
  const sql = await openClient(t, { maintenance: { afterWrites: 5, idleMs: 200 } });
  const upkeep = async (q: Pick<SqlClient, 'query'> = sql) =>
    (
      await q.query<{ analysed: Date | null; vacuumed: Date | null; allVisible: boolean }>(
        `SELECT s.last_analyze AS analysed, s.last_vacuum AS vacuumed,
                c.relallvisible > 0 AND c.relallvisible = c.relpages AS "allVisible"
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.relname = 'measured'`,
      )
    )[0];
  const quietUntilDone = async () => {
    for (let i = 0; i < 40 && !(await upkeep())?.vacuumed; i++) await setTimeout(300);
    return upkeep();
  };
  // The start owes one run; let it happen before the table exists.
  await setTimeout(600);
  await sql.query('CREATE TABLE measured (v integer)');
  for (let i = 0; i < 10; i++) await sql.query('INSERT INTO measured VALUES ($1)', [i]);
  // Each update leaves a dead row version, as an instance's claim does once it is stored.
  await sql.query('UPDATE measured SET v = v + 100');
  await sql.transaction(async (tx) => {
    await tx.query('INSERT INTO measured VALUES (10)');
    await setTimeout(800); // quiet, but a transaction is open
    const during = await upkeep(tx);
    t.is(during?.analysed, null, 'not analysed while a transaction is open');
    t.is(during?.vacuumed, null, 'not vacuumed while a transaction is open');
    t.false(during?.allVisible, 'no page marked all-visible yet');
  });
  const first = await quietUntilDone();
  t.truthy(first?.vacuumed, 'vacuumed once quiet');
  t.truthy(first?.analysed, 'analysed once quiet');
  // Only a page without dead row versions is marked all-visible.
  t.true(first?.allVisible, 'the dead row versions are gone: every page is all-visible');
  const [stats] = await sql.query<{ n: number }>(
    `SELECT reltuples::integer AS n FROM pg_class WHERE relname = 'measured'`,
  );
  t.is(stats!.n, 11, 'the planner knows the row count');
  // Reads alone never call for another.
  for (let i = 0; i < 20; i++) await sql.query('SELECT count(*) FROM measured');
  await setTimeout(600);
  t.deepEqual(await upkeep(), first, 'no VACUUM or ANALYZE after reads only');
});
